using System.Net;

namespace Slimta.Smtp.Dns;

/// <summary>
/// The DNS queries the edge rules need (DNSBL, SPF, reverse DNS). Every method honours its own
/// timeout and never throws for a DNS failure: it reports <see cref="DnsStatus.Error"/> instead,
/// which the rules turn into a temporary failure (RFC 7208 §2.6.6 temperror).
/// </summary>
public interface IDnsResolver
{
    /// <summary>A (IPv4) or AAAA (IPv6) records of <paramref name="name"/>.</summary>
    Task<DnsAnswer<IPAddress>> AddressesAsync(string name, bool ipv6, CancellationToken cancellationToken);

    /// <summary>TXT records of <paramref name="name"/>, each one's strings joined (RFC 7208 §3.3).</summary>
    Task<DnsAnswer<string>> TextsAsync(string name, CancellationToken cancellationToken);

    /// <summary>MX records of <paramref name="name"/>.</summary>
    Task<DnsAnswer<MxHost>> MailExchangersAsync(string name, CancellationToken cancellationToken);

    /// <summary>PTR names of <paramref name="address"/> (in-addr.arpa / ip6.arpa), without trailing dots.</summary>
    Task<DnsAnswer<string>> ReverseAsync(IPAddress address, CancellationToken cancellationToken);
}
