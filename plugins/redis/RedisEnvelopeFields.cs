using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using StackExchange.Redis;
using ClientInfo = Slimta.Abstractions.Envelopes.ClientInfo;

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
        var doc = new EnvelopeDocument
        {
            Sender = envelope.Sender,
            Recipients = [.. envelope.Recipients],
            ClientAddress = envelope.Client.Address?.ToString(),
            ClientPort = envelope.Client.Port,
            ClientReverseDns = envelope.Client.ReverseDns,
            ClientEhlo = envelope.Client.EhloName,
            ClientProtocol = envelope.Client.Protocol,
            ClientAuthUser = envelope.Client.AuthenticatedUser,
            ReceivedAtMs = envelope.ReceivedAt == default ? null : envelope.ReceivedAt.ToUnixTimeMilliseconds(),
            ReceivedOffsetMinutes = (int)envelope.ReceivedAt.Offset.TotalMinutes,
            SmtpUtf8 = envelope.SmtpUtf8,
            BodyType = envelope.BodyType,
        };
        return
        [
            new(VersionField, Version),
            new(EnvelopeField, JsonSerializer.SerializeToUtf8Bytes(doc, RedisJsonContext.Default.EnvelopeDocument)),
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
        var doc = JsonSerializer.Deserialize(json, RedisJsonContext.Default.EnvelopeDocument) ?? throw new InvalidDataException($"message {id} has an empty envelope");
        byte[] message = fields.GetValueOrDefault(MessageField) is { IsNull: false } m ? (byte[])m! : [];
        IPAddress? address = doc.ClientAddress is null ? null : IPAddress.Parse(doc.ClientAddress);
        var envelope = new Envelope(doc.Sender ?? string.Empty, doc.Recipients ?? [], new RawMessage(message))
        {
            Id = id,
            Client = new ClientInfo(address, doc.ClientPort, doc.ClientReverseDns, doc.ClientEhlo, doc.ClientProtocol ?? "SMTP", doc.ClientAuthUser),
            ReceivedAt = doc.ReceivedAtMs is { } ms
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms).ToOffset(TimeSpan.FromMinutes(doc.ReceivedOffsetMinutes))
                : default,
            SmtpUtf8 = doc.SmtpUtf8,
            BodyType = doc.BodyType,
        };
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

    /// <summary>The JSON in the <c>envelope</c> field. Property names are part of the documented layout.</summary>
    internal sealed class EnvelopeDocument
    {
        [JsonPropertyName("sender")]
        public string? Sender { get; set; }

        [JsonPropertyName("rcpts")]
        public List<string>? Recipients { get; set; }

        [JsonPropertyName("client_ip")]
        public string? ClientAddress { get; set; }

        [JsonPropertyName("client_port")]
        public int ClientPort { get; set; }

        [JsonPropertyName("client_rdns")]
        public string? ClientReverseDns { get; set; }

        [JsonPropertyName("client_ehlo")]
        public string? ClientEhlo { get; set; }

        [JsonPropertyName("protocol")]
        public string? ClientProtocol { get; set; }

        [JsonPropertyName("auth_user")]
        public string? ClientAuthUser { get; set; }

        [JsonPropertyName("received_ms")]
        public long? ReceivedAtMs { get; set; }

        [JsonPropertyName("received_offset_min")]
        public int ReceivedOffsetMinutes { get; set; }

        [JsonPropertyName("smtputf8")]
        public bool SmtpUtf8 { get; set; }

        [JsonPropertyName("body_type")]
        public string? BodyType { get; set; }
    }
}
