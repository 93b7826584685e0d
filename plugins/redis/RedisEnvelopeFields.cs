using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using StackExchange.Redis;

namespace Slimta.Plugins.Redis;

/// <summary>
/// The hash of one message, version 1 (layout in docs/operations.md, "Redis layout"): the envelope
/// as a small JSON document in <c>envelope</c> (UTF-8, so addresses are never mixed up with raw
/// bytes), the message bytes untouched in the binary field <c>message</c>, and the fields that
/// change (<c>attempts</c>, <c>next</c>, <c>d:&lt;index&gt;</c>, <c>owner</c>) as separate fields
/// so every update is one atomic hash command.
/// </summary>
internal static class RedisEnvelopeFields
{
    /// <summary>The layout version this build writes and reads (field <c>v</c>).</summary>
    public const int Version = 1;

    public const string VersionField = "v";
    public const string EnvelopeField = "envelope";
    public const string MessageField = "message";
    public const string AttemptsField = "attempts";
    public const string NextField = "next";
    public const string OwnerField = "owner";
    public const string DeliveredPrefix = "d:";

    /// <summary>The hash fields of a new message, in HSET argument order.</summary>
    public static HashEntry[] Encode(Envelope envelope, DateTimeOffset nextAttempt)
    {
        return
        [
            new(VersionField, Version),
            new(EnvelopeField, EnvelopeLine.EncodeJson(envelope, Version)),
            new(MessageField, envelope.Message.Bytes),
            new(AttemptsField, 0),
            new(NextField, nextAttempt.ToUnixTimeMilliseconds()),
        ];
    }

    /// <summary>Reads a whole hash (HGETALL) back; throws <see cref="InvalidDataException"/> for a hash this build cannot read.</summary>
    public static StoredMessage Decode(string id, HashEntry[] entries)
    {
        var fields = new Dictionary<string, RedisValue>(entries.Length, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            fields[e.Name!] = e.Value;
        }
        if (!fields.TryGetValue(VersionField, out var v) || (int)v != Version)
        {
            throw new InvalidDataException($"message {id} has layout version {(v.IsNull ? "(none)" : v.ToString())}, this build reads {Version}");
        }
        byte[] json = fields.GetValueOrDefault(EnvelopeField) is { IsNull: false } j ? (byte[])j! : throw new InvalidDataException($"message {id} has no envelope field");
        byte[] message = fields.GetValueOrDefault(MessageField) is { IsNull: false } m ? (byte[])m! : [];
        var envelope = EnvelopeLine.DecodeJson(id, json, new RawMessage(message), $"message {id}", out _);
        var delivered = new HashSet<int>();
        foreach (var (name, _) in fields)
        {
            if (name.StartsWith(DeliveredPrefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(DeliveredPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
            {
                delivered.Add(index);
            }
        }
        int attempts = fields.TryGetValue(AttemptsField, out var a) ? (int)a : 0;
        long next = fields.TryGetValue(NextField, out var n) ? (long)n : 0;
        return new StoredMessage(id, envelope, attempts, DateTimeOffset.FromUnixTimeMilliseconds(next), delivered);
    }
}
