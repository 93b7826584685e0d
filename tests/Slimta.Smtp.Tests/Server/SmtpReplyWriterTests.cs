using System.Buffers;
using System.Text;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Tests.Server;

public class SmtpReplyWriterTests
{
    private static string Write(Reply reply)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SmtpReplyWriter.Write(buffer, reply);
        return Encoding.ASCII.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Write_MultiLine_RepeatsCodeAndStatus()
    {
        Assert.Equal("550-5.1.1 one\r\n550 5.1.1 two\r\n", Write(new Reply(550, "5.1.1", "one\ntwo")));
    }

    [Fact]
    public void Write_ControlCharacters_AreReplaced()
    {
        Assert.Equal("250 2.0.0 a?b?c\r\n", Write(new Reply(250, "2.0.0", "a\rb\u00e9c")));
    }

    [Fact]
    public void Write_NoStatus_OmitsIt()
    {
        Assert.Equal("220 mx ESMTP\r\n", Write(new Reply(220, null, "mx ESMTP")));
    }
}
