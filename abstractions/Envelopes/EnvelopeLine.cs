using System.Net;
using System.Text.Json;

namespace Slimta.Abstractions.Envelopes;

/// <summary>
/// One stored-message layout for storages that keep a message in a single blob (the aws and
/// rackspace queues): the envelope as one
/// line of UTF-8 JSON (<see cref="EnvelopeLineDocument"/>; JSON escapes every line break inside
/// strings, so the first LF ends it), a LF, then the message bytes untouched; the redis queue keeps
/// the same JSON (<see cref="EncodeJson"/>) in its <c>envelope</c> hash field. The property names
/// are part of the documented layouts (docs/operations.md).
/// </summary>
public static class EnvelopeLine
{
    /// <summary>The blob for <paramref name="envelope"/>, with layout version <paramref name="version"/> in field <c>v</c>.</summary>
    public static byte[] Encode(Envelope envelope, int version)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var json = EncodeJson(envelope, version);
        var message = envelope.Message.Bytes.Span;
        var body = new byte[json.Length + 1 + message.Length];
        json.CopyTo(body, 0);
        body[json.Length] = (byte)'\n';
        message.CopyTo(body.AsSpan(json.Length + 1));
        return body;
    }

    /// <summary>
    /// Reads a blob back as the envelope of <paramref name="id"/>; throws <see cref="InvalidDataException"/>
    /// (its message starting with <paramref name="what"/>, e.g. "message object 0123…") for a blob
    /// without an envelope line, with an unreadable one, or of another layout version.
    /// </summary>
    public static Envelope Decode(string id, byte[] body, int version, string what)
    {
        ArgumentNullException.ThrowIfNull(body);
        int newline = Array.IndexOf(body, (byte)'\n');
        if (newline < 0)
        {
            throw new InvalidDataException($"{what} has no envelope line");
        }
        var envelope = DecodeJson(id, body.AsSpan(0, newline), new RawMessage(body.AsSpan(newline + 1).ToArray()), what, out int found);
        if (found != version)
        {
            throw new InvalidDataException($"{what} has layout version {found}, this build reads {version}");
        }
        return envelope;
    }

    /// <summary>The envelope alone as JSON (<see cref="EnvelopeLineDocument"/>), for storages that keep the message bytes apart (the redis hash).</summary>
    public static byte[] EncodeJson(Envelope envelope, int version)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var doc = new EnvelopeLineDocument
        {
            Version = version,
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
        return JsonSerializer.SerializeToUtf8Bytes(doc, EnvelopeLineJsonContext.Default.EnvelopeLineDocument);
    }

    /// <summary>
    /// Reads envelope JSON written by <see cref="EncodeJson"/> (a missing <c>v</c> reads as 0) around
    /// <paramref name="message"/>; throws <see cref="InvalidDataException"/> naming <paramref name="what"/>.
    /// </summary>
    public static Envelope DecodeJson(string id, ReadOnlySpan<byte> json, RawMessage message, string what, out int version)
    {
        EnvelopeLineDocument doc;
        try
        {
            doc = JsonSerializer.Deserialize(json, EnvelopeLineJsonContext.Default.EnvelopeLineDocument)
                ?? throw new InvalidDataException($"{what} has an empty envelope");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what} has an unreadable envelope: {e.Message}", e);
        }
        version = doc.Version;
        IPAddress? address = doc.ClientAddress is null ? null : IPAddress.Parse(doc.ClientAddress);
        return new Envelope(doc.Sender ?? string.Empty, doc.Recipients ?? [], message)
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
}
