using System.Net;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// One next hop: the host name (for logs, TLS server name and the pool key), the port, and how to
/// find its addresses — null to let the operating system resolve <see cref="Host"/> (static,
/// lmtp), or the mx relay's own resolver (so a configured DNS server is used throughout).
/// </summary>
internal sealed record SmtpDestination(string Host, int Port, Func<CancellationToken, Task<IReadOnlyList<IPAddress>>>? ResolveAsync = null)
{
    /// <summary><c>host:port</c>.</summary>
    /// <remarks>Built once: the queue reads it for every message relayed.</remarks>
    public string Remote { get; } = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
