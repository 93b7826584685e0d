using System.Text;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Tests.Server;

public class DataDecoderTests
{
    private static (DataDecoder Decoder, string Message, string After) Decode(string input, int maxSize = 10000, int chunk = int.MaxValue)
    {
        var bytes = Encoding.Latin1.GetBytes(input);
        using var buffer = new MessageBuffer();
        var decoder = new DataDecoder(buffer, maxSize);
        int pos = 0;
        while (pos < bytes.Length && !decoder.IsComplete)
        {
            int n = Math.Min(chunk, bytes.Length - pos);
            int used = decoder.Decode(bytes.AsSpan(pos, n));
            pos += used;
            if (used < n)
            {
                break;
            }
        }
        return (decoder, Encoding.Latin1.GetString(buffer.WrittenSpan), Encoding.Latin1.GetString(bytes, pos, bytes.Length - pos));
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Decode_SimpleMessage_EndsAtCrlfDotCrlf(int chunk)
    {
        var (decoder, message, rest) = Decode("Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n", chunk: chunk);
        Assert.True(decoder.IsComplete);
        Assert.Equal("Subject: x\r\n\r\nhello\r\n", message);
        Assert.Equal("QUIT\r\n", rest);
        Assert.False(decoder.SawBareLineEnding);
    }

    [Fact]
    public void Decode_DotAtStart_IsEmptyMessage()
    {
        var (decoder, message, _) = Decode(".\r\n");
        Assert.True(decoder.IsComplete);
        Assert.Equal("", message);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    public void Decode_StuffedDots_AreRemoved(int chunk)
    {
        var (decoder, message, _) = Decode("..leading dot\r\n..\r\n...\r\n.x\r\nend\r\n.\r\n", chunk: chunk);
        Assert.True(decoder.IsComplete);
        Assert.Equal(".leading dot\r\n.\r\n..\r\nx\r\nend\r\n", message);
    }

    // SMTP smuggling (CVE-2023-51764 class): none of these may end the data.
    [Theory]
    [InlineData("a\n.\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("a\n.\r\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("a\r\n.\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("a\r.\rMAIL FROM:<evil@x>\r\n")]
    [InlineData("a\r.\r\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("a\r\n.\rMAIL FROM:<evil@x>\r\n")]
    [InlineData("a\r\r\n.\r\r\nMAIL FROM:<evil@x>\r\n")]
    [InlineData("a\r\n\n.\r\nMAIL FROM:<evil@x>\r\n")]
    public void Decode_SmugglingVariant_DoesNotEndAndIsFlagged(string payload)
    {
        foreach (var chunk in new[] { int.MaxValue, 1 })
        {
            var (decoder, _, rest) = Decode(payload, chunk: chunk);
            Assert.False(decoder.IsComplete);
            Assert.Equal("", rest);
            Assert.True(decoder.SawBareLineEnding);
            // Only the real end finishes it, and then nothing after the smuggled part was a command.
            var (full, _, after) = Decode(payload + "tail\r\n.\r\nNOOP\r\n", chunk: chunk);
            Assert.True(full.IsComplete);
            Assert.Equal("NOOP\r\n", after);
        }
    }

    [Fact]
    public void Decode_TooBig_ReadsToRealEndAndFlagsOversize()
    {
        var body = string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 30));
        var (decoder, message, rest) = Decode(body + ".\r\nNOOP\r\n", maxSize: 5000, chunk: 700);
        Assert.True(decoder.IsComplete);
        Assert.True(decoder.IsOversize);
        Assert.Equal(30000, decoder.Size);
        Assert.Equal("", message);
        Assert.Equal("NOOP\r\n", rest);
    }

    [Fact]
    public void Decode_ExactlyMaxSize_IsNotOversize()
    {
        var (decoder, message, _) = Decode("12345678\r\n.\r\n", maxSize: 10);
        Assert.True(decoder.IsComplete);
        Assert.False(decoder.IsOversize);
        Assert.Equal("12345678\r\n", message);
    }

    [Fact]
    public void Decode_EightBitBytes_AreKept()
    {
        var (decoder, message, _) = Decode("caf\u00e9 \u00e2\u0098\u0083 \u00ff\u0000\r\n.\r\n");
        Assert.True(decoder.IsComplete);
        Assert.Equal("caf\u00e9 \u00e2\u0098\u0083 \u00ff\u0000\r\n", message);
    }

    [Fact]
    public void Decode_LongTextLine_IsAccepted()
    {
        var line = new string('y', 998) + "\r\n";
        var (decoder, message, _) = Decode(line + ".\r\n");
        Assert.True(decoder.IsComplete);
        Assert.Equal(line, message);
    }
}
