using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The body of one Cloud Files object, version 1 (docs/operations.md, "Rackspace layout"): the
/// envelope as one line of JSON (UTF-8; JSON escapes every line break inside strings), a LF, then
/// the message bytes untouched. The envelope never changes after it is written (the engine keeps
/// the original recipient list), so only metadata is ever updated.
/// </summary>
internal static class ObjectBody
{
    /// <summary>The layout version this build writes and reads (field <c>v</c>).</summary>
    public const int Version = 1;

    /// <summary>The object bytes for <paramref name="envelope"/>.</summary>
    public static byte[] Encode(Envelope envelope)
    {
        var doc = new EnvelopeDocument
        {
            Version = Version,
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
        var json = JsonSerializer.SerializeToUtf8Bytes(doc, RackspaceJsonContext.Default.EnvelopeDocument);
        var message = envelope.Message.Bytes.Span;
        var body = new byte[json.Length + 1 + message.Length];
        json.CopyTo(body, 0);
        body[json.Length] = (byte)'\n';
        message.CopyTo(body.AsSpan(json.Length + 1));
        return body;
    }

    /// <summary>Reads an object back; throws <see cref="InvalidDataException"/> for one this build cannot read.</summary>
    public static Envelope Decode(string id, byte[] body)
    {
        int newline = Array.IndexOf(body, (byte)'\n');
        if (newline < 0)
        {
            throw new InvalidDataException($"object {id} has no envelope line");
        }
        EnvelopeDocument doc;
        try
        {
            doc = JsonSerializer.Deserialize(body.AsSpan(0, newline), RackspaceJsonContext.Default.EnvelopeDocument)
                ?? throw new InvalidDataException($"object {id} has an empty envelope");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"object {id} has an unreadable envelope: {e.Message}", e);
        }
        if (doc.Version != Version)
        {
            throw new InvalidDataException($"object {id} has layout version {doc.Version}, this build reads {Version}");
        }
        IPAddress? address = doc.ClientAddress is null ? null : IPAddress.Parse(doc.ClientAddress);
        return new Envelope(doc.Sender ?? string.Empty, doc.Recipients ?? [], new RawMessage(body.AsSpan(newline + 1).ToArray()))
        {
            Id = id,
            Client = new ClientInfo(address, doc.ClientPort, doc.ClientReverseDns, doc.ClientEhlo, doc.ClientProtocol ?? "SMTP", doc.ClientAuthUser),
            ReceivedAt = doc.ReceivedAtMs is { } ms
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms).ToOffset(TimeSpan.FromMinutes(doc.ReceivedOffsetMinutes))
                : default,
            SmtpUtf8 = doc.SmtpUtf8,
            BodyType = doc.BodyType,
        };
    }

    /// <summary>The JSON envelope line. Property names are part of the documented layout.</summary>
    internal sealed class EnvelopeDocument
    {
        [JsonPropertyName("v")]
        public int Version { get; set; }

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
