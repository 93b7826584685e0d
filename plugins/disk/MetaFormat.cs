using System.Buffers.Binary;
using System.IO.Hashing;

namespace Slimta.Plugins.Disk;

/// <summary>The <c>.meta</c> file, version 1 (layout in README.md), closed by an XxHash64 like <see cref="EnvelopeFormat"/>.</summary>
internal static class MetaFormat
{
    /// <summary>First 8 bytes of every <c>.meta</c> file.</summary>
    public static ReadOnlySpan<byte> Magic => "SLIMTA-M"u8;

    public static byte[] Encode(string id, MetaState meta)
    {
        var w = new FieldWriter();
        w.Bytes(Magic);
        w.UInt16(EnvelopeFormat.Version);
        w.UInt16(0);
        w.String(id);
        w.Int32(meta.Attempts);
        w.Time(meta.NextAttempt);
        w.Int32(meta.RecipientCount);
        w.Int32(meta.Delivered.Length);
        foreach (int index in meta.Delivered)
        {
            w.Int32(index);
        }
        var body = w.Written.Span;
        var file = new byte[body.Length + 8];
        body.CopyTo(file);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(body.Length), XxHash64.HashToUInt64(body));
        return file;
    }

    public static MetaState Decode(ReadOnlySpan<byte> file, string expectedId)
    {
        EnvelopeFormat.CheckFrame(file, Magic, "meta");
        var r = new FieldReader(file[..^8]);
        r.Take(8, "magic");
        r.UInt16("version");
        r.UInt16("flags");
        var id = r.RequiredString("id");
        if (!string.Equals(id, expectedId, StringComparison.Ordinal))
        {
            throw new SpoolFormatException($"holds id {id}, not {expectedId}");
        }
        int attempts = r.Int32("attempts");
        var next = r.Time("next attempt");
        int recipients = r.Int32("recipient count");
        int count = r.Int32("delivered count");
        if (attempts < 0 || recipients < 0 || count < 0 || count > recipients)
        {
            throw new SpoolFormatException("attempts or recipient counts are out of range");
        }
        var delivered = new int[count];
        for (int i = 0; i < count; i++)
        {
            delivered[i] = r.Int32("delivered index");
            if (delivered[i] < 0 || delivered[i] >= recipients)
            {
                throw new SpoolFormatException("delivered index is out of range");
            }
        }
        if (r.Position != file.Length - 8)
        {
            throw new SpoolFormatException("unexpected bytes after the last field");
        }
        return new MetaState(attempts, next, recipients, delivered);
    }
}
