using System.Buffers.Binary;
using System.Text;

namespace Slimta.Plugins.Disk;

/// <summary>Reads the fields <see cref="FieldWriter"/> wrote; every read is bounds-checked.</summary>
internal ref struct FieldReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count < 0 || count > _data.Length - Position)
        {
            throw new SpoolFormatException($"truncated or corrupt at {field} (offset {Position})");
        }
        var span = _data.Slice(Position, count);
        Position += count;
        return span;
    }

    public byte UInt8(string field) => Take(1, field)[0];

    public ushort UInt16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public short Int16(string field) => BinaryPrimitives.ReadInt16LittleEndian(Take(2, field));

    public int Int32(string field) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, field));

    public long Int64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

    public string? String(string field)
    {
        int length = Int32(field);
        if (length == -1)
        {
            return null;
        }
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length, field));
        }
        catch (DecoderFallbackException)
        {
            throw new SpoolFormatException($"{field} is not valid UTF-8");
        }
    }

    public string RequiredString(string field) => String(field) ?? throw new SpoolFormatException($"{field} is missing");

    public DateTimeOffset Time(string field)
    {
        long ticks = Int64(field);
        short offset = Int16(field);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks || offset < -14 * 60 || offset > 14 * 60)
        {
            throw new SpoolFormatException($"{field} is out of range");
        }
        var utc = new DateTimeOffset(ticks, TimeSpan.Zero);
        try
        {
            return utc.ToOffset(TimeSpan.FromMinutes(offset));
        }
        catch (ArgumentOutOfRangeException)
        {
            return utc;
        }
    }
}
