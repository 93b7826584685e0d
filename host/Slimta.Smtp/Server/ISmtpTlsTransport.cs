using System.IO.Pipelines;

namespace Slimta.Smtp.Server;

/// <summary>
/// The transport's side of STARTTLS (RFC 3207): the session decides when to upgrade and the
/// transport does the handshake, so the protocol core never sees a socket or a certificate.
/// </summary>
public interface ISmtpTlsTransport
{
    /// <summary>
    /// Does the server side of a TLS handshake on the connection, after the session flushed
    /// <c>220 2.0.0 Ready</c>. Returns the pipes of the encrypted connection, or null when the
    /// handshake failed (the session then closes without another reply: the connection is in an
    /// unknown state, RFC 3207 §4.1). Bytes the old pipes buffered are never read again.
    /// </summary>
    ValueTask<IDuplexPipe?> StartTlsAsync(CancellationToken cancellationToken);
}
