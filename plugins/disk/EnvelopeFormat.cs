using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Disk;

/// <summary>
/// The <c>.env</c> file, version 1: the envelope and the exact message bytes, closed by an
/// XxHash64 of everything before it so a torn or corrupt file is detected. Layout in README.md.
/// </summary>
internal static class EnvelopeFormat
{
    /// <summary>First 8 bytes of every <c>.env</c> file.</summary>
    public static ReadOnlySpan<byte> Magic => "SLIMTA-E"u8;

    /// <summary>The version this build writes and reads.</summary>
    public const ushort Version = 1;

    /// <summary>
    /// The file as three parts — header, the message bytes themselves (not copied), checksum —
    /// ready for one gathered write.
    /// </summary>
    public static ReadOnlyMemory<byte>[] Encode(string id, Envelope envelope)
    {
        var w = new FieldWriter();
        w.Bytes(Magic);
        w.UInt16(Version);
        w.UInt16(0); // flags, none defined in version 1
        w.String(id);
        w.String(envelope.Sender);
        w.Int32(envelope.Recipients.Count);
        foreach (var rcpt in envelope.Recipients)
        {
            w.String(rcpt);
        }
        var client = envelope.Client;
        w.String(client.Address?.ToString());
        w.Int32(client.Port);
        w.String(client.ReverseDns);
        w.String(client.EhloName);
        w.String(client.Protocol);
        w.String(client.AuthenticatedUser);
        w.Time(envelope.ReceivedAt);
        w.UInt8(envelope.SmtpUtf8 ? (byte)1 : (byte)0);
        w.String(envelope.BodyType);
        var message = envelope.Message.Bytes;
        w.Int64(message.Length);
        var header = w.Written;

        var hash = new XxHash64();
        hash.Append(header.Span);
        hash.Append(message.Span);
        var trailer = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, hash.GetCurrentHashAsUInt64());
        return [header, message, trailer];
    }

    /// <summary>Parses and verifies a whole <c>.env</c> file; the message bytes are a slice of <paramref name="file"/> (no copy).</summary>
    public static Envelope Decode(ReadOnlyMemory<byte> file, string expectedId)
    {
        var span = file.Span;
        CheckFrame(span, Magic, "envelope");
        var r = new FieldReader(span[..^8]);
        r.Take(8, "magic");
        r.UInt16("version");
        r.UInt16("flags");
        var id = r.RequiredString("id");
        if (!string.Equals(id, expectedId, StringComparison.Ordinal))
        {
            throw new SpoolFormatException($"holds id {id}, not {expectedId}");
        }
        var sender = r.RequiredString("sender");
        int count = r.Int32("recipient count");
        if (count < 0 || count > span.Length / 4)
        {
            throw new SpoolFormatException("recipient count is out of range");
        }
        var recipients = new string[count];
        for (int i = 0; i < count; i++)
        {
            recipients[i] = r.RequiredString("recipient");
        }
        var address = r.String("client address");
        IPAddress? ip = null;
        if (address is not null && !IPAddress.TryParse(address, out ip))
        {
            throw new SpoolFormatException("client address is not an IP address");
        }
        int port = r.Int32("client port");
        var rdns = r.String("client reverse dns");
        var ehlo = r.String("client ehlo");
        var protocol = r.RequiredString("client protocol");
        var user = r.String("client auth user");
        var received = r.Time("received at");
        bool smtpUtf8 = r.UInt8("smtputf8") != 0;
        var bodyType = r.String("body type");
        long length = r.Int64("message length");
        if (length != span.Length - 8 - r.Position)
        {
            throw new SpoolFormatException($"message length {length} does not match the file size");
        }
        var message = file.Slice(r.Position, (int)length);
        return new Envelope(sender, recipients, new RawMessage(message))
        {
            Id = id,
            Client = new ClientInfo(ip, port, rdns, ehlo, protocol, user),
            ReceivedAt = received,
            SmtpUtf8 = smtpUtf8,
            BodyType = bodyType,
        };
    }

    /// <summary>Checks magic, version and the closing checksum shared by both file kinds.</summary>
    internal static void CheckFrame(ReadOnlySpan<byte> file, ReadOnlySpan<byte> magic, string kind)
    {
        if (file.Length < magic.Length + 4 + 8)
        {
            throw new SpoolFormatException($"{kind} file is truncated ({file.Length} bytes)");
        }
        if (!file[..magic.Length].SequenceEqual(magic))
        {
            throw new SpoolFormatException($"not a slimta {kind} file (bad magic)");
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(file[magic.Length..]);
        if (version != Version)
        {
            throw new SpoolFormatException($"unsupported {kind} format version {version} (this build reads {Version})");
        }
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(file[^8..]);
        if (XxHash64.HashToUInt64(file[..^8]) != stored)
        {
            throw new SpoolFormatException($"{kind} checksum mismatch (torn or corrupt file)");
        }
    }
}
