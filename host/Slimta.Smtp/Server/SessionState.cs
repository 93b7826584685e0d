namespace Slimta.Smtp.Server;

/// <summary>Where a session is in the RFC 5321 §4.1.4 command sequence.</summary>
internal enum SessionState
{
    /// <summary>Greeted, no EHLO/HELO yet.</summary>
    Connected,

    /// <summary>After EHLO/HELO, outside a transaction.</summary>
    Ready,

    /// <summary>After an accepted MAIL.</summary>
    Mail,

    /// <summary>After at least one accepted RCPT.</summary>
    Rcpt,
}
