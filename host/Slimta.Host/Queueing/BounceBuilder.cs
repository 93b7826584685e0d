using System.Security.Cryptography;
using System.Text;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Host.Queueing;

/// <summary>
/// Builds delivery status notifications (RFC 3464): a <c>multipart/report;
/// report-type=delivery-status</c> message (RFC 6522) with a human-readable part, a
/// <c>message/delivery-status</c> part and the original headers as <c>text/rfc822-headers</c>
/// (or the whole original as <c>message/rfc822</c>), sent from the null sender to the original
/// sender so it can never bounce again (RFC 5321 §4.5.5). Two kinds: a failure report
/// (<c>Action: failed</c>, 5.x.x) and a delay notice (<c>Action: delayed</c>, 4.x.x, RFC 3464 §2.3.3).
/// </summary>
public sealed class BounceBuilder
{
    private readonly string _reportingMta;
    private readonly string _hostname;
    private readonly BounceSettings _settings;
    private readonly TimeProvider _time;

    /// <summary>Creates a builder with the default settings, reporting as <paramref name="reportingMta"/> (this host's fqdn).</summary>
    public BounceBuilder(string reportingMta, TimeProvider time)
        : this(reportingMta, reportingMta, BounceSettings.Default, time)
    {
    }

    /// <summary>Creates a builder reporting as <paramref name="reportingMta"/> with a queue's <c>bounce</c> settings.</summary>
    public BounceBuilder(string reportingMta, string hostname, BounceSettings settings, TimeProvider time)
    {
        _reportingMta = reportingMta;
        _hostname = hostname;
        _settings = settings;
        _time = time;
    }

    /// <summary>The settings in use (the delay notice threshold is read by the engine).</summary>
    public BounceSettings Settings => _settings;

    /// <summary>
    /// The failure report for <paramref name="original"/>, or null when the original had the null
    /// sender (never bounce a bounce).
    /// </summary>
    public Envelope? Build(Envelope original, string? queueId, IReadOnlyList<FailedRecipient> failed) =>
        BuildReport(original, queueId, failed, delayed: false, willRetryUntil: null);

    /// <summary>
    /// A delay notice (<c>Action: delayed</c>) for recipients that are still being retried, or null
    /// for the null sender. <paramref name="willRetryUntil"/> becomes <c>Will-Retry-Until</c> when known.
    /// </summary>
    public Envelope? BuildDelayNotice(Envelope original, string? queueId, IReadOnlyList<FailedRecipient> delayed, DateTimeOffset? willRetryUntil) =>
        BuildReport(original, queueId, delayed, delayed: true, willRetryUntil);

    private Envelope? BuildReport(Envelope original, string? queueId, IReadOnlyList<FailedRecipient> recipients, bool delayed, DateTimeOffset? willRetryUntil)
    {
        if (original.IsNullSender || recipients.Count == 0)
        {
            return null;
        }
        var now = _time.GetUtcNow();
        var boundary = "=_slimta_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var sb = new StringBuilder(2048);
        sb.Append("From: Mail Delivery System <MAILER-DAEMON@").Append(_reportingMta).Append(">\r\n");
        sb.Append("To: <").Append(original.Sender).Append(">\r\n");
        sb.Append("Subject: ").Append(delayed ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender").Append("\r\n");
        sb.Append("Date: ").Append(Rfc5322Date.Format(now)).Append("\r\n");
        sb.Append("Message-Id: <").Append(QueueId.New()).Append('@').Append(_reportingMta).Append(">\r\n");
        // RFC 3834: automatic responses must not trigger further automatic responses.
        sb.Append("Auto-Submitted: auto-replied\r\n");
        sb.Append("MIME-Version: 1.0\r\n");
        sb.Append("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"").Append(boundary).Append("\"\r\n");
        sb.Append("\r\n");
        sb.Append("This is a MIME-encapsulated message.\r\n\r\n");

        sb.Append("--").Append(boundary).Append("\r\n");
        sb.Append("Content-Type: text/plain; charset=utf-8\r\n");
        sb.Append("Content-Transfer-Encoding: 8bit\r\n\r\n");
        sb.Append(HumanText(delayed ? _settings.DelayText : _settings.Text, original, queueId, recipients));
        sb.Append("\r\n");

        sb.Append("--").Append(boundary).Append("\r\n");
        sb.Append("Content-Type: message/delivery-status\r\n\r\n");
        // RFC 3464 §2.2: per-message fields, then one group per recipient (§2.3).
        sb.Append("Reporting-MTA: dns; ").Append(_reportingMta).Append("\r\n");
        if (queueId is not null)
        {
            sb.Append("X-Slimta-Queue-ID: ").Append(queueId).Append("\r\n");
        }
        if (original.ReceivedAt != default)
        {
            sb.Append("Arrival-Date: ").Append(Rfc5322Date.Format(original.ReceivedAt)).Append("\r\n");
        }
        foreach (var f in recipients)
        {
            sb.Append("\r\n");
            // RFC 6533: a non-ASCII address is reported with the utf-8 address type.
            sb.Append("Final-Recipient: ").Append(IsAscii(f.Recipient) ? "rfc822; " : "utf-8; ").Append(f.Recipient).Append("\r\n");
            sb.Append("Action: ").Append(delayed ? "delayed" : "failed").Append("\r\n");
            sb.Append("Status: ").Append(StatusOf(f, delayed)).Append("\r\n");
            if (f.RemoteHost is not null)
            {
                sb.Append("Remote-MTA: dns; ").Append(HostOnly(f.RemoteHost)).Append("\r\n");
            }
            sb.Append("Diagnostic-Code: smtp; ").Append(OneLine(f.Reply.ToString())).Append("\r\n");
            sb.Append("Last-Attempt-Date: ").Append(Rfc5322Date.Format(now)).Append("\r\n");
            if (delayed && willRetryUntil is { } until)
            {
                sb.Append("Will-Retry-Until: ").Append(Rfc5322Date.Format(until)).Append("\r\n");
            }
        }
        sb.Append("\r\n");

        // The original, copied byte for byte: its headers (text/rfc822-headers, RFC 6522 §4) or the
        // whole message (message/rfc822). 8-bit bytes are declared, never re-encoded (RFC 2046 §5.2.1).
        var attached = _settings.IncludeFullMessage ? original.Message.Bytes.Span : original.Message.Headers.Span;
        bool eightBit = !Ascii.IsValid(attached);
        sb.Append("--").Append(boundary).Append("\r\n");
        sb.Append("Content-Type: ").Append(_settings.IncludeFullMessage ? "message/rfc822" : "text/rfc822-headers").Append("\r\n");
        if (eightBit)
        {
            sb.Append("Content-Transfer-Encoding: 8bit\r\n");
        }
        sb.Append("\r\n");
        var head = Encoding.UTF8.GetBytes(sb.ToString());
        var tail = Encoding.ASCII.GetBytes(
            (attached.Length > 0 && attached[^1] != (byte)'\n' ? "\r\n" : string.Empty)
            + "\r\n--" + boundary + "--\r\n");

        var bytes = new byte[head.Length + attached.Length + tail.Length];
        head.CopyTo(bytes, 0);
        attached.CopyTo(bytes.AsSpan(head.Length));
        tail.CopyTo(bytes, head.Length + attached.Length);

        return new Envelope(string.Empty, [original.Sender], new RawMessage(bytes))
        {
            Client = ClientInfo.Local,
            ReceivedAt = now,
            SmtpUtf8 = !IsAscii(original.Sender),
            BodyType = "8BITMIME",
        };
    }

    private string HumanText(string template, Envelope original, string? queueId, IReadOnlyList<FailedRecipient> recipients)
    {
        var list = new StringBuilder();
        foreach (var f in recipients)
        {
            list.Append('<').Append(f.Recipient).Append(">: ").Append(OneLine(f.Reply.ToString())).Append('\n');
        }
        if (!template.Contains("{recipients}", StringComparison.Ordinal))
        {
            template = template.TrimEnd() + "\n\n{recipients}";
        }
        var text = template
            .Replace("{sender}", original.Sender, StringComparison.Ordinal)
            .Replace("{fqdn}", _reportingMta, StringComparison.Ordinal)
            .Replace("{hostname}", _hostname, StringComparison.Ordinal)
            .Replace("{queue_id}", queueId ?? string.Empty, StringComparison.Ordinal)
            .Replace("{recipients}", list.ToString(), StringComparison.Ordinal);
        // Configured texts come with the config file's line ends; a MIME part needs CRLF.
        text = text.ReplaceLineEndings("\r\n");
        return text.EndsWith("\r\n", StringComparison.Ordinal) ? text : text + "\r\n";
    }

    /// <summary>
    /// RFC 3464 §2.3.4: the status must match the action — 5.x.x for failed, 4.x.x for delayed.
    /// A reply whose class disagrees (a 4xx reply failed by "too many retries") keeps its detail.
    /// </summary>
    private static string StatusOf(FailedRecipient f, bool delayed)
    {
        var status = f.Reply.StatusOrDefault;
        char cls = delayed ? '4' : status[0] == '4' ? '4' : '5';
        return cls + status[1..];
    }

    private static string OneLine(string text) => text.Replace("\r", " ").Replace("\n", " ");

    private static bool IsAscii(string s) => Ascii.IsValid(s);

    private static string HostOnly(string remote)
    {
        // "host:port" -> "host"; leave IPv6 literals ("[::1]:25") and plain names alone otherwise.
        int colon = remote.LastIndexOf(':');
        if (colon > 0 && remote.IndexOf(':') == colon)
        {
            return remote[..colon];
        }
        return remote;
    }
}
