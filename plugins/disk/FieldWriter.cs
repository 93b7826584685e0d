using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Slimta.Plugins.Disk;

/// <summary>Appends the fields of a spool file, little-endian (see README.md, "On-disk format").</summary>
internal sealed class FieldWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    public void Bytes(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    public void UInt8(byte value) => _buffer.Write([value]);

    public void UInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    public void Int16(short value)
    {
        BinaryPrimitives.WriteInt16LittleEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    public void Int32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void Int64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    /// <summary>A string: i32 byte length (-1 for null), then UTF-8.</summary>
    public void String(string? value)
    {
        if (value is null)
        {
            Int32(-1);
            return;
        }
        int count = Encoding.UTF8.GetByteCount(value);
        Int32(count);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(count));
        _buffer.Advance(count);
    }

    /// <summary>An instant: i64 UTC ticks and i16 UTC offset in minutes (the offset is kept, not just the instant).</summary>
    public void Time(DateTimeOffset value)
    {
        Int64(value.UtcTicks);
        Int16((short)value.TotalOffsetMinutes);
    }
}
