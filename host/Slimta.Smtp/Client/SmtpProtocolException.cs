namespace Slimta.Smtp.Client;

/// <summary>
/// The server broke the protocol (a malformed or over-long reply, data sent before the TLS
/// handshake) or closed the connection. The connection is unusable afterwards.
/// </summary>
public sealed class SmtpProtocolException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SmtpProtocolException(string message, bool connectionClosed = false) : base(message)
    {
        ConnectionClosed = connectionClosed;
    }

    /// <summary>True when the server closed the connection (end of stream) rather than sending garbage.</summary>
    public bool ConnectionClosed { get; }
}
