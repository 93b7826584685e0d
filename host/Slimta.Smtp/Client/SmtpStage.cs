namespace Slimta.Smtp.Client;

/// <summary>The stage of an SMTP client session a timeout applies to.</summary>
public enum SmtpStage
{
    /// <summary>Opening the TCP connection.</summary>
    Connect,

    /// <summary>Sending a command and waiting for its reply (also the greeting and the TLS handshake).</summary>
    Command,

    /// <summary>Sending the message after DATA and waiting for the final reply.</summary>
    Data,
}
