using System.Net;
using Slimta.Plugins.Smtp.MtaSts;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// One next hop: the host name (for logs, TLS server name and the pool key), the port, and how to
/// find its addresses — null to let the operating system resolve <see cref="Host"/> (static,
/// lmtp), or the mx relay's own resolver (so a configured DNS server is used throughout).
/// <see cref="Sts"/> is the MTA-STS mode of the recipient domain this exchanger serves (RFC 8461):
/// enforce requires STARTTLS with a certificate valid for <see cref="Host"/>, testing only logs
/// what enforce would refuse.
/// </summary>
internal sealed record SmtpDestination(string Host, int Port, Func<CancellationToken, Task<IReadOnlyList<IPAddress>>>? ResolveAsync = null, MtaStsMode Sts = MtaStsMode.None)
{
    /// <summary>The pool key: an exchanger used under an MTA-STS policy gets sessions of its own.</summary>
    public string PoolKey => Sts == MtaStsMode.None ? Remote : Remote + " (mta-sts " + Sts.ToString().ToLowerInvariant() + ")";

    /// <summary><c>host:port</c>.</summary>
    /// <remarks>Built once: the queue reads it for every message relayed.</remarks>
    public string Remote { get; } = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
