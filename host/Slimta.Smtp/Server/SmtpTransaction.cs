namespace Slimta.Smtp.Server;

/// <summary>One mail transaction (MAIL, RCPT…, DATA) as the session collected it.</summary>
public sealed class SmtpTransaction
{
    private readonly List<string> _recipients = [];

    internal SmtpTransaction(string sender) => Sender = sender;

    /// <summary>The reverse-path without brackets; empty for the null sender.</summary>
    public string Sender { get; }

    /// <summary>The accepted forward-paths, in order.</summary>
    public IReadOnlyList<string> Recipients => _recipients;

    /// <summary>True when MAIL carried SMTPUTF8 (RFC 6531).</summary>
    public bool SmtpUtf8 { get; internal set; }

    /// <summary>The BODY= value (<c>7BIT</c> or <c>8BITMIME</c>, RFC 6152) when given.</summary>
    public string? BodyType { get; internal set; }

    /// <summary>The SIZE= value (RFC 1870) when given.</summary>
    public long? DeclaredSize { get; internal set; }

    /// <summary>RCPT commands refused in this transaction (for 554 on DATA, RFC 2920 §3.1).</summary>
    internal int RefusedRecipients { get; set; }

    internal void AddRecipient(string recipient) => _recipients.Add(recipient);
}
