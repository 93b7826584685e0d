using System.Globalization;
using System.Text.Json.Nodes;
using Slimta.Host.Queueing;

namespace Slimta.Host.Control;

/// <summary>
/// The response lines of the control protocol. Every line is one JSON object with a <c>type</c>:
/// <c>hello</c> (first, on the socket only), <c>total</c>, <c>message</c>, <c>progress</c>,
/// <c>note</c>, and last exactly one of <c>ok</c> or <c>error</c>.
/// </summary>
public static class ControlJson
{
    /// <summary>A queued message; <paramref name="details"/> adds the client and the headers (never the body).</summary>
    public static JsonObject Message(QueueEntry entry, bool details)
    {
        var stored = entry.Stored;
        var envelope = stored.Envelope;
        var obj = new JsonObject
        {
            ["type"] = "message",
            ["queue"] = entry.Queue,
            ["id"] = entry.Id,
            ["state"] = entry.State,
            ["received_at"] = envelope.ReceivedAt == default ? null : Time(envelope.ReceivedAt),
            ["next_attempt"] = Time(entry.NextAttempt),
            ["attempts"] = stored.Attempts,
            ["size"] = envelope.Message.Length,
            ["sender"] = envelope.Sender,
            ["recipients"] = new JsonArray(entry.PendingRecipients.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            ["delivered"] = new JsonArray(stored.Delivered.Order().Where(i => i < envelope.Recipients.Count).Select(i => (JsonNode?)JsonValue.Create(envelope.Recipients[i])).ToArray()),
        };
        if (details)
        {
            var c = envelope.Client;
            obj["client"] = new JsonObject
            {
                ["address"] = c.Address?.ToString(),
                ["port"] = c.Port,
                ["reverse_dns"] = c.ReverseDns,
                ["ehlo"] = c.EhloName,
                ["protocol"] = c.Protocol,
                ["auth_user"] = c.AuthenticatedUser,
            };
            obj["smtputf8"] = envelope.SmtpUtf8;
            obj["body_type"] = envelope.BodyType;
            obj["headers"] = new JsonArray(envelope.Message.GetAllHeaders()
                .Select(h => (JsonNode?)new JsonArray(JsonValue.Create(h.Key), JsonValue.Create(h.Value))).ToArray());
        }
        return obj;
    }

    /// <summary><c>{"type":"total","queue":…,"count":…}</c>: how many entries or steps follow for a queue.</summary>
    public static JsonObject Total(string queue, int count) => new() { ["type"] = "total", ["queue"] = queue, ["count"] = count };

    /// <summary><c>{"type":"progress","queue":…,"done":…,"total":…}</c>.</summary>
    public static JsonObject Progress(string queue, int done, int total) => new() { ["type"] = "progress", ["queue"] = queue, ["done"] = done, ["total"] = total };

    /// <summary><c>{"type":"note","message":…}</c>: something the operator should know (e.g. a skipped queue).</summary>
    public static JsonObject Note(string message) => new() { ["type"] = "note", ["message"] = message };

    /// <summary><c>{"type":"ok","message":…,"count":…}</c>: the last line of a success.</summary>
    public static JsonObject Ok(string message, int? count = null, string? bounceId = null)
    {
        var obj = new JsonObject { ["type"] = "ok", ["message"] = message };
        if (count is { } n)
        {
            obj["count"] = n;
        }
        if (bounceId is not null)
        {
            obj["bounce_id"] = bounceId;
        }
        return obj;
    }

    /// <summary><c>{"type":"error","message":…}</c>: the last line of a failure.</summary>
    public static JsonObject Error(string message) => new() { ["type"] = "error", ["message"] = message };

    /// <summary>A time as ISO 8601 UTC with seconds.</summary>
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
