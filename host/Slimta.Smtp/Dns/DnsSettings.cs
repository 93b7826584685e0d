using System.Net;

namespace Slimta.Smtp.Dns;

/// <summary>The edge's resolver (<c>dns: {servers, timeout}</c>).</summary>
/// <param name="Servers">Name servers to ask; empty means the system's (/etc/resolv.conf).</param>
/// <param name="Timeout">Time allowed for one query, retries included.</param>
public sealed record DnsSettings(IReadOnlyList<IPEndPoint> Servers, TimeSpan Timeout)
{
    /// <summary>The system's name servers with a 5 second timeout.</summary>
    public static DnsSettings Default { get; } = new([], TimeSpan.FromSeconds(5));
}
