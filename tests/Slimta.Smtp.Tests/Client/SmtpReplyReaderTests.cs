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
        var reader = new SmtpReplyReader(new ChunkedStream(bytes.Select(b => new[] { b }).ToArray()), 512, 10);

        var ehlo = await reader.ReadAsync(CancellationToken.None);
        var data = await reader.ReadAsync(CancellationToken.None);
        var bye = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(new Reply(250, null, "first\n2.0.0 second"), ehlo);
        Assert.Equal(new Reply(354, null, "go"), data);
        Assert.Equal(new Reply(221, "2.0.0", "Bye"), bye);
    }

    [Fact]
    public async Task ReadAsync_NextReplyPartlyReceived_WaitsForTheRest()
    {
        // The second reply's first bytes arrive with the first reply: they are buffered, found
        // incomplete without waiting, and completed by the next read.
        var reader = new SmtpReplyReader(new ChunkedStream("250 ok\r\n25"u8.ToArray(), "0 2.1.0 next\r\n"u8.ToArray()), 512, 10);

        Assert.Equal("ok", (await reader.ReadAsync(CancellationToken.None)).Text);
        Assert.False(reader.TryRead(out _));
        Assert.Equal(new Reply(250, "2.1.0", "next"), await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_LinesAcrossBufferSegments_JoinsThem()
    {
        // Long lines in small reads cross the pipe's 4 KiB segments.
        var lines = Enumerable.Range(0, 3).Select(i => new string((char)('a' + i), 2000)).ToArray();
        var bytes = Encoding.ASCII.GetBytes($"250-{lines[0]}\r\n250-{lines[1]}\r\n250 {lines[2]}\r\n");
        var reader = new SmtpReplyReader(new ChunkedStream(bytes.Chunk(1000).ToArray()), 4096, 10);

        var reply = await reader.ReadAsync(CancellationToken.None);

        Assert.Equal(string.Join("\n", lines), reply.Text);
    }

    [Fact]
    public async Task ReadAsync_ExactlyMaxLines_Accepted()
    {
        var text = string.Concat(Enumerable.Repeat("250-x\r\n", 9)) + "250 end\r\n";

        var reply = await Reader(text).ReadAsync(CancellationToken.None);

        Assert.Equal(10, reply.Text.Split('\n').Length);
    }

    [Fact]
    public async Task ReadAsync_MaxLinesOfContinuationThenSilence_FailsWithoutWaiting()
    {
        // Ten continuation lines and then nothing: the limit is known to be exceeded already.
        var bytes = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("250-x\r\n", 10)));
        var reader = new SmtpReplyReader(new ChunkedStream(bytes) { HangAtEnd = true }, 512, 10);

        await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task ReadAsync_ClosedInsideMultiLineReply_ThrowsConnectionClosed()
    {
        var reader = new SmtpReplyReader(new ChunkedStream("250-one\r\n"u8.ToArray(), "250-two\r\n"u8.ToArray()), 512, 10);

        var e = await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(CancellationToken.None).AsTask());

        Assert.True(e.ConnectionClosed);
    }

    [Fact]
    public async Task ReadAsync_LongPartialLineAfterCompleteLines_ThrowsLineTooLong()
    {
        var bytes = Encoding.ASCII.GetBytes("250-ok\r\n250-" + new string('a', 600));
        var reader = new SmtpReplyReader(new ChunkedStream(bytes) { HangAtEnd = true }, 512, 10);

        var e = await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(CancellationToken.None).AsTask());

        Assert.Contains("longer than 512", e.Message);
    }

    [Fact]
    public async Task ReadAsync_ManyDistinctReplies_EachParsedFromItsOwnBytes()
    {
        // More distinct lines than the reader remembers, then the first again.
        var lines = Enumerable.Range(0, 12).Select(i => $"250 2.0.0 reply {i}").Append("250 2.0.0 reply 0").ToArray();
        var reader = Reader(string.Concat(lines.Select(l => l + "\r\n")));

        foreach (var line in lines)
        {
            Assert.Equal(Reply.Parse(line), await reader.ReadAsync(CancellationToken.None));
        }
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

    /// <summary>Hands out the given chunks, one per read, then the end of the stream (or nothing, ever).</summary>
    private sealed class ChunkedStream(params byte[][] chunks) : Stream
    {
        private int _next;

        public bool HangAtEnd { get; init; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_next == chunks.Length)
            {
                if (HangAtEnd)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                return 0;
            }
            var chunk = chunks[_next++];
            chunk.CopyTo(buffer);
            return chunk.Length;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
