using System.Text;
using Slimta.Smtp.Client;

namespace Slimta.Smtp.Tests.Client;

public sealed class DotStufferTests
{
    private static string Stuff(string text) => Encoding.UTF8.GetString(DotStuffer.Stuff(Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData("a\r\nb\r\n", "a\r\nb\r\n.\r\n")]
    [InlineData("a\r\nb", "a\r\nb\r\n.\r\n")]
    [InlineData(".a\r\n", "..a\r\n.\r\n")]
    [InlineData("x\r\n.\r\ny\r\n", "x\r\n..\r\ny\r\n.\r\n")]
    [InlineData("x\n.y\n", "x\n..y\n\r\n.\r\n")]
    [InlineData("", ".\r\n")]
    [InlineData(".", "..\r\n.\r\n")]
    public void Stuff_Message_ProducesDataStream(string message, string expected)
    {
        Assert.Equal(expected, Stuff(message));
    }

    [Fact]
    public void Fill_TinyBuffer_SameBytesAsOneFill()
    {
        var message = Encoding.UTF8.GetBytes(".one\r\n..two\r\nthree.\r\n.\r\nlast");
        var stuffer = new DotStuffer(message);
        var output = new List<byte>();
        var buffer = new byte[2];
        while (!stuffer.IsCompleted)
        {
            int n = stuffer.Fill(buffer);
            Assert.True(n > 0);
            output.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        Assert.Equal(DotStuffer.Stuff(message), output.ToArray());
    }
}
