using System.Buffers;

namespace Slimta.Smtp.Protocol;

/// <summary>
/// A growing byte buffer rented from <see cref="ArrayPool{T}"/>. The DATA decoder stops writing
/// once the message exceeds the size limit, so the buffer never grows past that limit.
/// </summary>
internal sealed class MessageBuffer : IDisposable
{
    private const int InitialSize = 4096;
    private byte[] _array = [];
    private int _length;

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The written bytes (valid until the next write, reset or dispose).</summary>
    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    /// <summary>Appends bytes.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.Length > _array.Length - _length)
        {
            Grow(data.Length);
        }
        data.CopyTo(_array.AsSpan(_length));
        _length += data.Length;
    }

    /// <summary>Copies the written bytes into an exact-size array (the immutable message).</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>Empties the buffer and returns its array to the pool.</summary>
    public void Reset()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
        _length = 0;
    }

    /// <inheritdoc />
    public void Dispose() => Reset();

    private void Grow(int needed)
    {
        long wanted = Math.Max((long)_length + needed, Math.Max(InitialSize, (long)_array.Length * 2));
        int size = (int)Math.Min(wanted, Array.MaxLength);
        if (size - _length < needed)
        {
            throw new InvalidOperationException("The message buffer cannot grow any further.");
        }
        var next = ArrayPool<byte>.Shared.Rent(size);
        _array.AsSpan(0, _length).CopyTo(next);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = next;
    }
}
