using Microsoft.Extensions.Logging;

namespace Slimta.Host.Logging;

/// <summary>
/// The structured events of the host: one log line each, with a stable name (<c>event</c> in
/// JSON, the word after the level in text) and stable fields (the placeholders, in snake_case).
/// Operators and log pipelines match on these names: change them only with a note in
/// docs/operations.md. Source-generated (LoggerMessage): when the level is off, a call costs one
/// check and allocates nothing. Message bodies and passwords are never fields.
/// </summary>
internal static partial class LogEvents
{
    /// <summary>Event names, also used by plugins that log the same events (the disk queue's <c>quarantined</c>).</summary>
    public static class Names
    {
        public const string ConnectionOpened = "connection_opened";
        public const string ConnectionClosed = "connection_closed";
        public const string ConnectionRefused = "connection_refused";
        public const string Rejected = "rejected";
        public const string Accepted = "accepted";
        public const string Attempt = "attempt";
        public const string Delivered = "delivered";
        public const string Deferred = "deferred";
        public const string Failed = "failed";
        public const string Bounced = "bounced";
        public const string BounceSkipped = "bounce_skipped";
        public const string DelayNotice = "delay_notice";
        public const string RelayError = "relay_error";
        public const string Quarantined = "quarantined";
    }

    // --- SMTP edge (1000-1099) ---

    [LoggerMessage(1001, LogLevel.Information, "Edge {Edge}: connection from {Client} opened (tls {Tls})", EventName = Names.ConnectionOpened)]
    public static partial void ConnectionOpened(this ILogger logger, string edge, string? client, bool tls);

    [LoggerMessage(1002, LogLevel.Information, "Edge {Edge}: connection from {Client} closed after {DurationMs} ms (tls {Tls})", EventName = Names.ConnectionClosed)]
    public static partial void ConnectionClosed(this ILogger logger, string edge, string? client, long durationMs, bool tls);

    /// <summary>A session refused before the greeting: <c>max_connections</c> or a DNSBL listing.</summary>
    [LoggerMessage(1003, LogLevel.Information, "Edge {Edge}: connection from {Client} refused ({Reason}): {Reply}", EventName = Names.ConnectionRefused)]
    public static partial void ConnectionRefused(this ILogger logger, string edge, string? client, string reason, string reply);

    /// <summary>A policy refused MAIL (sender rules, SPF), RCPT (recipient rules) or the message (spam).</summary>
    [LoggerMessage(1004, LogLevel.Information, "Edge {Edge}: {Stage} from {Client} for <{Address}> refused: {Reply}", EventName = Names.Rejected)]
    public static partial void Rejected(this ILogger logger, string edge, string? client, string stage, string? address, string reply);

    // --- queue engine (1100-1199) ---

    [LoggerMessage(1101, LogLevel.Information, "queue={Queue} id={Id} accepted from=<{Sender}> rcpts={Recipients} size={Size} client={Client}", EventName = Names.Accepted)]
    public static partial void Accepted(this ILogger logger, string queue, string id, string sender, int recipients, int size, string? client);

    [LoggerMessage(1102, LogLevel.Information, "queue={Queue} id={Id} attempt {Attempt} for {Recipients} recipient(s)", EventName = Names.Attempt)]
    public static partial void Attempt(this ILogger logger, string queue, string id, int attempt, int recipients);

    [LoggerMessage(1103, LogLevel.Information, "queue={Queue} id={Id} delivered to=<{Recipient}> relay={Relay} reply=\"{Reply}\" attempt={Attempt} delay={DelayMs}ms", EventName = Names.Delivered)]
    public static partial void Delivered(this ILogger logger, string queue, string id, string recipient, string? relay, string reply, int attempt, long? delayMs);

    [LoggerMessage(1104, LogLevel.Information, "queue={Queue} id={Id} deferred to=<{Recipient}> relay={Relay} reply=\"{Reply}\" attempt={Attempt} next={Next:O}", EventName = Names.Deferred)]
    public static partial void Deferred(this ILogger logger, string queue, string id, string recipient, string? relay, string reply, int attempt, DateTimeOffset next);

    [LoggerMessage(1105, LogLevel.Information, "queue={Queue} id={Id} failed to=<{Recipient}> relay={Relay} reply=\"{Reply}\" attempt={Attempt}", EventName = Names.Failed)]
    public static partial void Failed(this ILogger logger, string queue, string id, string recipient, string? relay, string reply, int attempt);

    [LoggerMessage(1106, LogLevel.Information, "queue={Queue} id={Id} bounced to=<{Sender}> bounce_id={BounceId} for {Recipients} recipient(s)", EventName = Names.Bounced)]
    public static partial void Bounced(this ILogger logger, string queue, string id, string sender, string? bounceId, int recipients);

    [LoggerMessage(1107, LogLevel.Information, "queue={Queue} id={Id} has the null sender: no bounce for {Recipients} recipient(s)", EventName = Names.BounceSkipped)]
    public static partial void BounceSkipped(this ILogger logger, string queue, string id, int recipients);

    [LoggerMessage(1108, LogLevel.Information, "queue={Queue} id={Id} delay notice to=<{Sender}> notice_id={NoticeId}", EventName = Names.DelayNotice)]
    public static partial void DelayNotice(this ILogger logger, string queue, string id, string sender, string? noticeId);

    [LoggerMessage(1109, LogLevel.Warning, "queue={Queue} id={Id} relay error ({ErrorClass})", EventName = Names.RelayError)]
    public static partial void RelayError(this ILogger logger, Exception exception, string queue, string id, string errorClass);

    // --- storages (1200-1299): logged by plugins with the same EventId (1201, "quarantined"):
    //     queue, file, target, reason; see plugins/disk/SpoolRecovery.cs.
}
