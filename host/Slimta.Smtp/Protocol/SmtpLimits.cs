namespace Slimta.Smtp.Protocol;

/// <summary>Size limits of the SMTP protocol (RFC 5321 §4.5.3.1).</summary>
public static class SmtpLimits
{
    /// <summary>
    /// The longest command line, including the command word and the CRLF (RFC 5321 §4.5.3.1.4).
    /// No extension we advertise raises it.
    /// </summary>
    public const int MaxCommandLine = 512;

    /// <summary>The longest text line in DATA, including the CRLF (RFC 5321 §4.5.3.1.6): 998 octets plus CRLF.</summary>
    public const int MaxTextLine = 1000;
}
