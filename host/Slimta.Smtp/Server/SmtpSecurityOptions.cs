namespace Slimta.Smtp.Server;

/// <summary>The authentication and TLS policy of a listener's sessions. Immutable; shared by all sessions.</summary>
public sealed record SmtpSecurityOptions
{
    /// <summary>No AUTH, no TLS requirement.</summary>
    public static SmtpSecurityOptions None { get; } = new();

    /// <summary>Checks AUTH credentials; null means AUTH is not offered (502).</summary>
    public ISmtpAuthenticator? Authenticator { get; init; }

    /// <summary>
    /// Allows AUTH on a connection that is not encrypted. Otherwise AUTH is advertised and
    /// accepted only under TLS (RFC 4954 §4: PLAIN and LOGIN send the password in the clear).
    /// </summary>
    public bool AllowPlaintextAuth { get; init; }

    /// <summary>MAIL requires a successful AUTH first (530 5.7.0, RFC 4954 §6).</summary>
    public bool RequireAuth { get; init; }

    /// <summary>MAIL and AUTH require TLS first (530 5.7.0, RFC 3207 §4).</summary>
    public bool RequireTls { get; init; }
}
