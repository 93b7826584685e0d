using System.Net;
using System.Net.Sockets;
using Slimta.Smtp.Dns;

namespace Slimta.Host.Edge;

/// <summary>
/// The client's forward-confirmed reverse DNS name (FCrDNS): a PTR name of the address whose own
/// A/AAAA records include the address. An unconfirmed PTR name is not reported: anyone who
/// controls the reverse zone of their address can claim any name there.
/// </summary>
public sealed class ReverseDnsLookup
{
    /// <summary>PTR names checked at most (the same bound as RFC 7208 §4.6.4 uses for ptr).</summary>
    private const int MaxNames = 10;
    private readonly IDnsResolver _dns;

    /// <summary>Creates the lookup.</summary>
    public ReverseDnsLookup(IDnsResolver dns) => _dns = dns;

    /// <summary>The confirmed name, or null (no PTR, not confirmed, DNS failure, or the resolver's timeout).</summary>
    public async Task<string?> LookupAsync(IPAddress address, CancellationToken cancellationToken)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var names = await _dns.ReverseAsync(address, cancellationToken).ConfigureAwait(false);
        foreach (var name in names.Records.Take(MaxNames))
        {
            var forward = await _dns.AddressesAsync(name, address.AddressFamily == AddressFamily.InterNetworkV6, cancellationToken).ConfigureAwait(false);
            if (forward.Records.Any(a => a.Equals(address)))
            {
                return name;
            }
        }
        return null;
    }
}
