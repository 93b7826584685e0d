namespace Slimta.Abstractions.Envelopes;

/// <summary>
/// A message with its SMTP envelope: the one object passed between edges, queues and relays.
/// The message bytes are kept exactly as received (after SMTP dot-unstuffing); header edits go
/// through <see cref="RawMessage"/>, which touches only the bytes it changes.
/// </summary>
public sealed class Envelope
{
    /// <summary>Creates an envelope.</summary>
    /// <param name="sender">The reverse-path without angle brackets; empty for the null sender.</param>
    /// <param name="recipients">The forward-paths without angle brackets.</param>
    /// <param name="message">The message bytes.</param>
    public Envelope(string sender, IEnumerable<string> recipients, RawMessage message)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipients);
        ArgumentNullException.ThrowIfNull(message);
        Sender = sender;
        Recipients = new List<string>(recipients);
        Message = message;
    }

    /// <summary>The queue id, set by the queue engine before policies run; null until then.</summary>
    public string? Id { get; set; }

    /// <summary>The reverse-path (MAIL FROM) without brackets; empty string for the null sender <c>&lt;&gt;</c>.</summary>
    public string Sender { get; set; }

    /// <summary>True for the null sender <c>&lt;&gt;</c>: such a message is never bounced.</summary>
    public bool IsNullSender => Sender.Length == 0;

    /// <summary>The forward-paths (RCPT TO) without brackets, in the order they were given.</summary>
    public List<string> Recipients { get; }

    /// <summary>The message: headers and body, bytes exactly as received.</summary>
    public RawMessage Message { get; set; }

    /// <summary>Who submitted the message.</summary>
    public ClientInfo Client { get; set; } = ClientInfo.Local;

    /// <summary>When the edge finished receiving the message.</summary>
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>True when the client declared SMTPUTF8 on MAIL (RFC 6531).</summary>
    public bool SmtpUtf8 { get; set; }

    /// <summary>The MAIL BODY= parameter (<c>7BIT</c>, <c>8BITMIME</c>, <c>BINARYMIME</c>) when given.</summary>
    public string? BodyType { get; set; }

    /// <summary>
    /// A copy with its own recipient list and the given recipients; the message bytes are
    /// immutable and shared. The copy has no <see cref="Id"/>: the queue assigns one.
    /// </summary>
    public Envelope CopyWithRecipients(IEnumerable<string> recipients) => new(Sender, recipients, Message)
    {
        Client = Client,
        ReceivedAt = ReceivedAt,
        SmtpUtf8 = SmtpUtf8,
        BodyType = BodyType,
    };

    /// <summary>A copy with the same recipients; see <see cref="CopyWithRecipients"/>.</summary>
    public Envelope Copy() => CopyWithRecipients(Recipients);

    /// <summary>The domain part of an address (after the last <c>@</c>), or empty.</summary>
    public static string DomainOf(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 ? string.Empty : address[(at + 1)..];
    }
}
