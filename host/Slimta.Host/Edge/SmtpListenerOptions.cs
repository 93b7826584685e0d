using System.Net;

namespace Slimta.Host.Edge;

/// <summary>One TCP listener of the SMTP edge (<c>{interface, port}</c>).</summary>
/// <param name="Address">The local address to bind.</param>
/// <param name="Port">The port; 0 lets the system choose (see <see cref="SmtpEdge.BoundEndPoints"/>).</param>
public sealed record SmtpListenerOptions(IPAddress Address, int Port)
{
    /// <summary>The endpoint to bind.</summary>
    public IPEndPoint EndPoint => new(Address, Port);
}
