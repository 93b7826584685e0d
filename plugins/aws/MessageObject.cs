using System.Globalization;
using System.Net;
using System.Text.Json;
using Slimta.Abstractions.Envelopes;
using ClientInfo = Slimta.Abstractions.Envelopes.ClientInfo;

namespace Slimta.Plugins.Aws;

/// <summary>
/// The message object <c>&lt;prefix&gt;&lt;id&gt;</c>, written once and never changed: its body is the
/// envelope as one line of JSON (<see cref="EnvelopeDocument"/>; JSON escapes every control
/// character inside strings, so the first LF ends it), then LF, then the message bytes untouched.
/// Its user metadata holds the layout version and the initial state (next attempt, notice id).
/// </summary>
internal static class MessageObject
{
    /// <summary>The layout version this build writes and reads.</summary>
    public const int LayoutVersion = 1;

    /// <summary>User metadata: layout version.</summary>
    public const string LayoutKey = "slimta-layout";

    /// <summary>User metadata: next attempt at write time, unix milliseconds.</summary>
    public const string NextKey = "next-ms";

    /// <summary>User metadata: the SQS message id of the first notice (shared queues).</summary>
    public const string NoticeKey = "notice";

    /// <summary>The object body of <paramref name="envelope"/>.</summary>
    public static byte[] Encode(Envelope envelope)
    {
        var doc = new EnvelopeDocument
        {
            Version = LayoutVersion,
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
        var json = JsonSerializer.SerializeToUtf8Bytes(doc, AwsJsonContext.Default.EnvelopeDocument);
        var message = envelope.Message.Bytes.Span;
        var body = new byte[json.Length + 1 + message.Length];
        json.CopyTo(body, 0);
        body[json.Length] = (byte)'\n';
        message.CopyTo(body.AsSpan(json.Length + 1));
        return body;
    }

    /// <summary>Reads a body back; throws <see cref="InvalidDataException"/> for a body this build cannot read.</summary>
    public static Envelope Decode(string id, byte[] body)
    {
        int newline = Array.IndexOf(body, (byte)'\n');
        if (newline < 0)
        {
            throw new InvalidDataException($"message object {id} has no envelope line");
        }
        EnvelopeDocument doc;
        try
        {
            doc = JsonSerializer.Deserialize(body.AsSpan(0, newline), AwsJsonContext.Default.EnvelopeDocument)
                ?? throw new InvalidDataException($"message object {id} has an empty envelope");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"message object {id} has an unreadable envelope: {e.Message}", e);
        }
        if (doc.Version != LayoutVersion)
        {
            throw new InvalidDataException($"message object {id} has layout version {doc.Version}, this build reads {LayoutVersion}");
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

    /// <summary>Formats unix milliseconds for metadata.</summary>
    public static string FormatMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses metadata unix milliseconds; null when absent or malformed.</summary>
    public static long? ParseMs(string? value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms) ? ms : null;
}
