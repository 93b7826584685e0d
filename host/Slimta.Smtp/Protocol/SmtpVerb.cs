namespace Slimta.Smtp.Protocol;

/// <summary>The command words the server recognises.</summary>
internal enum SmtpVerb
{
    /// <summary>Not a command this server knows (500).</summary>
    Unknown,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
    Bdat,
}
