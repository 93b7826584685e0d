namespace Slimta.Smtp.Server;

/// <summary>The limits and texts of an SMTP server session. Immutable; shared by all sessions of a listener.</summary>
public sealed record SmtpServerOptions
{
    /// <summary>This server's name, used in the EHLO/HELO reply.</summary>
    public required string Hostname { get; init; }

    /// <summary>The text of the 220 greeting; null means <c>"{Hostname} ESMTP Slimta"</c>.</summary>
    public string? Banner { get; init; }

    /// <summary>The largest message accepted, in bytes: advertised as SIZE (RFC 1870) and enforced while reading DATA.</summary>
    public int MaxSize { get; init; } = 10 * 1024 * 1024;

    /// <summary>Recipients accepted per transaction; more get 452 4.5.3 (RFC 5321 §4.5.3.1.10 requires at least 100).</summary>
    public int MaxRecipients { get; init; } = 1000;

    /// <summary>Protocol errors (syntax, sequence, unknown command) tolerated before the session is closed with 421.</summary>
    public int MaxErrors { get; init; } = 10;

    /// <summary>How long to wait for the next command before 421 4.4.2 (RFC 5321 §4.5.3.2.7 suggests 5 minutes).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for the next chunk of DATA before 421 4.4.2 (RFC 5321 §4.5.3.2.5/6).</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The greeting text actually sent.</summary>
    public string EffectiveBanner => Banner ?? $"{Hostname} ESMTP Slimta";
}
