using System.Net;

namespace Slimta.Host.Edge.Dnsbl;

/// <summary>The <c>rules.dnsbl</c> of an SMTP edge.</summary>
/// <param name="Zones">The DNSBL zones to ask (<c>zen.spamhaus.org</c>), in order.</param>
/// <param name="Ignore">Client networks never looked up (trusted networks, the local host).</param>
public sealed record DnsblSettings(IReadOnlyList<string> Zones, IReadOnlyList<IPNetwork> Ignore);
