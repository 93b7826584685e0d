using System.IO.Pipelines;
using System.Text;
using Slimta.Host.Edge;

namespace Slimta.Host.Tests.Edge;

public sealed class EdgeReadStreamTests
{
    /// <summary>Records the reads it is asked for; a zero-byte read waits until data is pushed.</summary>
    private sealed class WaitingStream : Stream
    {
        private readonly TaskCompletionSource _data = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private byte[] _pending = [];

        public int ZeroByteReads { get; private set; }

        public void Push(string text)
        {
            _pending = Encoding.ASCII.GetBytes(text);
            _data.TrySetResult();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                ZeroByteReads++;
            }
            await _data.Task.WaitAsync(cancellationToken);
            int n = Math.Min(buffer.Length, _pending.Length);
            _pending.AsSpan(0, n).CopyTo(buffer.Span);
            _pending = _pending[n..];
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task ReadAsync_ZeroByteWhileSkipping_CompletesAtOnceWithoutAskingTheConnection()
    {
        var inner = new WaitingStream();
        var stream = new EdgeReadStream(inner) { SkipWaitForData = () => true };

        var wait = stream.ReadAsync(Memory<byte>.Empty);

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.Equal(0, await wait);
        Assert.Equal(0, inner.ZeroByteReads);
    }

    [Fact]
    public async Task ReadAsync_ZeroByteWhileIdle_WaitsForData()
    {
        var inner = new WaitingStream();
        var stream = new EdgeReadStream(inner) { SkipWaitForData = () => false };

        var wait = stream.ReadAsync(Memory<byte>.Empty);

        Assert.False(wait.IsCompleted);
        Assert.Equal(1, inner.ZeroByteReads);
        inner.Push("NOOP\r\n");
        Assert.Equal(0, await wait);
    }

    [Fact]
    public async Task PipeReader_SkippingTheWait_StillReadsEveryByte()
    {
        var inner = new WaitingStream();
        bool skip = true;
        var reader = PipeReader.Create(new EdgeReadStream(inner) { SkipWaitForData = () => skip },
            new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true));

        var read = reader.ReadAsync();
        Assert.False(read.IsCompleted);
        inner.Push("RCPT TO:<a@b.test>\r\n");
        var result = await read;

        Assert.Equal("RCPT TO:<a@b.test>\r\n", Encoding.ASCII.GetString(result.Buffer));
        Assert.Equal(0, inner.ZeroByteReads);
        reader.AdvanceTo(result.Buffer.End);
        await reader.CompleteAsync();
    }
}
