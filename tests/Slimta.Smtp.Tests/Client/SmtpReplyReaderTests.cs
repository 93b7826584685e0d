using System.Text;
using Slimta.Abstractions.Relaying;
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

    [Fact]
    public async Task ReadAsync_SameSingleLineTwice_ReturnsTheSameReply()
    {
        var reader = Reader("250 2.1.0 Ok\r\n250 2.1.0 Ok\r\n");

        var first = await reader.ReadAsync(CancellationToken.None);
        var second = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(new Reply(250, "2.1.0", "Ok"), first);
        Assert.Same(first, second);
    }

    [Fact]
    public async Task ReadAsync_OneByteAtATime_ParsesEveryReply()
    {
        var bytes = Encoding.UTF8.GetBytes("250-first\r\n250 2.0.0 second\r\n354 go\n221 2.0.0 Bye\r\n");
        var reader = new SmtpReplyReader(new TrickleStream(bytes), 512, 10);

        var ehlo = await reader.ReadAsync(CancellationToken.None);
        var data = await reader.ReadAsync(CancellationToken.None);
        var bye = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(new Reply(250, null, "first\n2.0.0 second"), ehlo);
        Assert.Equal(new Reply(354, null, "go"), data);
        Assert.Equal(new Reply(221, "2.0.0", "Bye"), bye);
    }

    [Fact]
    public async Task TryRead_NothingReceivedYet_ReturnsFalseWithoutWaiting()
    {
        var reader = Reader("250 ok\r\n");

        Assert.False(reader.TryRead(out _));
        var reply = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal("ok", reply.Text);
    }

    [Fact]
    public async Task ReadAsync_StatusNotMatchingTheClass_StaysInTheText()
    {
        var reply = await Reader("250 5.1.1 odd\r\n").ReadAsync(CancellationToken.None);

        Assert.Null(reply.EnhancedStatus);
        Assert.Equal("5.1.1 odd", reply.Text);
    }

    [Fact]
    public async Task ReadAsync_InvalidUtf8_BecomesReplacementCharacter()
    {
        var bytes = "250 caf"u8.ToArray().Concat(new byte[] { 0xC3, 0x28 }).Concat("\r\n"u8.ToArray()).ToArray();

        var reply = await new SmtpReplyReader(new MemoryStream(bytes), 512, 10).ReadAsync(CancellationToken.None);

        Assert.Equal("caf\uFFFD(", reply.Text);
    }

    /// <summary>Hands out one byte per read, as a slow network might.</summary>
    private sealed class TrickleStream(byte[] bytes) : Stream
    {
        private int _pos;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => bytes.Length;
        public override long Position { get => _pos; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (_pos == bytes.Length || buffer.IsEmpty)
            {
                return 0;
            }
            buffer[0] = bytes[_pos++];
            return 1;
        }
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
