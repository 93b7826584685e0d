using System.Security.Cryptography;
using System.Text;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Host.Queueing;

/// <summary>
/// Builds delivery status notifications (RFC 3464): a <c>multipart/report;
/// report-type=delivery-status</c> message (RFC 6522) with a human-readable part, a
/// <c>message/delivery-status</c> part and the original headers as <c>text/rfc822-headers</c>,
/// sent from the null sender to the original sender so it can never bounce again (RFC 5321 §4.5.5).
/// </summary>
public sealed class BounceBuilder
{
    private readonly string _reportingMta;
    private readonly TimeProvider _time;

    /// <summary>Creates a builder reporting as <paramref name="reportingMta"/> (this host's fqdn).</summary>
    public BounceBuilder(string reportingMta, TimeProvider time)
    {
        _reportingMta = reportingMta;
        _time = time;
    }

    /// <summary>
    /// The bounce for <paramref name="original"/>, or null when the original had the null sender
    /// (never bounce a bounce).
    /// </summary>
    public Envelope? Build(Envelope original, string? queueId, IReadOnlyList<FailedRecipient> failed)
    {
        if (original.IsNullSender || failed.Count == 0)
        {
            return null;
        }
        var now = _time.GetUtcNow();
        var boundary = "=_slimta_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var sb = new StringBuilder(2048);
        sb.Append("From: Mail Delivery System <MAILER-DAEMON@").Append(_reportingMta).Append(">\r\n");
        sb.Append("To: <").Append(original.Sender).Append(">\r\n");
        sb.Append("Subject: Undelivered Mail Returned to Sender\r\n");
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
        sb.Append("This is the mail system at host ").Append(_reportingMta).Append(".\r\n\r\n");
        sb.Append("Your message could not be delivered to one or more recipients.\r\n");
        sb.Append("It is attached below with the reasons.\r\n\r\n");
        foreach (var f in failed)
        {
            sb.Append('<').Append(f.Recipient).Append(">: ").Append(OneLine(f.Reply.ToString())).Append("\r\n");
        }
        sb.Append("\r\n");

        sb.Append("--").Append(boundary).Append("\r\n");
        sb.Append("Content-Type: message/delivery-status\r\n\r\n");
        sb.Append("Reporting-MTA: dns; ").Append(_reportingMta).Append("\r\n");
        if (queueId is not null)
        {
            sb.Append("X-Slimta-Queue-ID: ").Append(queueId).Append("\r\n");
        }
        if (original.ReceivedAt != default)
        {
            sb.Append("Arrival-Date: ").Append(Rfc5322Date.Format(original.ReceivedAt)).Append("\r\n");
        }
        foreach (var f in failed)
        {
            sb.Append("\r\n");
            // RFC 6533: a non-ASCII address is reported with the utf-8 address type.
            sb.Append("Final-Recipient: ").Append(IsAscii(f.Recipient) ? "rfc822; " : "utf-8; ").Append(f.Recipient).Append("\r\n");
            sb.Append("Action: failed\r\n");
            sb.Append("Status: ").Append(f.Reply.StatusOrDefault).Append("\r\n");
            if (f.RemoteHost is not null)
            {
                sb.Append("Remote-MTA: dns; ").Append(HostOnly(f.RemoteHost)).Append("\r\n");
            }
            sb.Append("Diagnostic-Code: smtp; ").Append(OneLine(f.Reply.ToString())).Append("\r\n");
            sb.Append("Last-Attempt-Date: ").Append(Rfc5322Date.Format(now)).Append("\r\n");
        }
        sb.Append("\r\n");

        sb.Append("--").Append(boundary).Append("\r\n");
        sb.Append("Content-Type: text/rfc822-headers\r\n\r\n");
        var head = Encoding.UTF8.GetBytes(sb.ToString());
        var originalHeaders = original.Message.Headers.Span;
        var tail = Encoding.ASCII.GetBytes(
            (originalHeaders.Length > 0 && originalHeaders[^1] != (byte)'\n' ? "\r\n" : string.Empty)
            + "\r\n--" + boundary + "--\r\n");

        var bytes = new byte[head.Length + originalHeaders.Length + tail.Length];
        head.CopyTo(bytes, 0);
        originalHeaders.CopyTo(bytes.AsSpan(head.Length));
        tail.CopyTo(bytes, head.Length + originalHeaders.Length);

        return new Envelope(string.Empty, [original.Sender], new RawMessage(bytes))
        {
            Client = ClientInfo.Local,
            ReceivedAt = now,
            SmtpUtf8 = !IsAscii(original.Sender),
        };
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
