using System.Text;
using Slimta.Smtp.Client;

namespace Slimta.Smtp.Tests.Client;

public sealed class SmtpReplyReaderTests
{
    private static SmtpReplyReader Reader(string text, int maxLine = 512) =>
        new(new MemoryStream(Encoding.UTF8.GetBytes(text)), maxLine, 10);

    [Fact]
    public async Task ReadAsync_MultiLineWithEnhancedCodes_KeepsCodeOnceAndJoinsText()
    {
        var reply = await Reader("550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third\r\n").ReadAsync(CancellationToken.None);

        Assert.Equal(550, reply.Code);
        Assert.Equal("5.1.1", reply.EnhancedStatus);
        Assert.Equal("first\nsecond\nthird", reply.Text);
    }

    [Fact]
    public async Task ReadAsync_TwoReplies_ReadsThemInOrder()
    {
        var reader = Reader("250 ok\r\n354 go ahead\r\n");

        Assert.Equal(250, (await reader.ReadAsync(CancellationToken.None)).Code);
        Assert.Equal("go ahead", (await reader.ReadAsync(CancellationToken.None)).Text);
    }

    [Fact]
    public async Task ReadAsync_LineTooLong_ThrowsProtocolException()
    {
        var reader = Reader("250 " + new string('a', 600) + "\r\n");

        await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task ReadAsync_CodeChangesInsideReply_ThrowsProtocolException()
    {
        await Assert.ThrowsAsync<SmtpProtocolException>(() => Reader("250-a\r\n251 b\r\n").ReadAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task ReadAsync_Garbage_ThrowsProtocolException()
    {
        await Assert.ThrowsAsync<SmtpProtocolException>(() => Reader("hello\r\n").ReadAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task ReadAsync_EndOfStream_ThrowsConnectionClosed()
    {
        var e = await Assert.ThrowsAsync<SmtpProtocolException>(() => Reader("250-partial\r\n").ReadAsync(CancellationToken.None).AsTask());

        Assert.True(e.ConnectionClosed);
    }

    [Fact]
    public async Task ReadAsync_TooManyLines_ThrowsProtocolException()
    {
        var text = string.Concat(Enumerable.Repeat("250-x\r\n", 20)) + "250 end\r\n";

        await Assert.ThrowsAsync<SmtpProtocolException>(() => Reader(text).ReadAsync(CancellationToken.None).AsTask());
    }
}
