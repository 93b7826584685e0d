namespace Slimta.Host.Edge;

/// <summary>
/// The read side of an edge connection as its pipe reader sees it. The pipe reader waits for data
/// with a zero-byte read before it takes a buffer, so thousands of idle sessions hold no read
/// buffers; but on Linux that wait is a system call of its own (a one-byte MSG_PEEK) and a
/// wake-up before the real read, for every command. While <see cref="SkipWaitForData"/> says the
/// client will answer at once (inside a transaction, in DATA), the wait is skipped and the pipe
/// reads straight into its buffer.
/// </summary>
internal sealed class EdgeReadStream(Stream inner) : Stream
{
    /// <summary>Asked before each zero-byte read; true to skip it. Null: never skip.</summary>
    public Func<bool>? SkipWaitForData { get; set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty && SkipWaitForData?.Invoke() == true)
        {
            // "Data is there": the pipe reader goes on to the real read, which waits as needed.
            return ValueTask.FromResult(0);
        }
        return inner.ReadAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
