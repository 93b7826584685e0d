using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Slimta.Smtp.Dns;

namespace Slimta.Host.Edge.Dnsbl;

/// <summary>
/// Looks a client address up in DNS blocklists (RFC 5782). The zones are asked in parallel; the
/// first configured zone that lists the address is the one reported.
/// </summary>
public sealed class DnsblChecker
{
    private readonly DnsblSettings _settings;
    private readonly IDnsResolver _dns;

    /// <summary>Creates a checker.</summary>
    public DnsblChecker(DnsblSettings settings, IDnsResolver dns)
    {
        _settings = settings;
        _dns = dns;
    }

    /// <summary>Checks <paramref name="address"/>; an ignored or unknown address is never listed.</summary>
    public async Task<DnsblResult> CheckAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        if (address is null)
        {
            return new DnsblResult(null, []);
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var network in _settings.Ignore)
        {
            if (network.Contains(address))
            {
                return new DnsblResult(null, []);
            }
        }
        string reversed = ReversedName(address);
        var lookups = _settings.Zones.Select(zone => _dns.AddressesAsync(reversed + "." + zone, ipv6: false, cancellationToken)).ToList();
        var answers = await Task.WhenAll(lookups).ConfigureAwait(false);
        var failed = new List<string>();
        for (int i = 0; i < answers.Length; i++)
        {
            if (answers[i].Status == DnsStatus.Error)
            {
                failed.Add(_settings.Zones[i]);
            }
            // RFC 5782 §2.1: a listing is an A record in 127.0.0.0/8; 127.0.0.1 is never a
            // listing (§5 test entries use 127.0.0.2). Anything else — a resolver that rewrites
            // NXDOMAIN to an ad server, a "query refused" code like 127.255.255.254 of some
            // lists — is not a listing either.
            else if (answers[i].Records.Any(IsListing))
            {
                return new DnsblResult(_settings.Zones[i], failed);
            }
        }
        return new DnsblResult(null, failed);
    }

    /// <summary>The query name prefix: reversed octets for IPv4, reversed nibbles for IPv6 (RFC 5782 §2.1, §2.4).</summary>
    public static string ReversedName(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        var name = new StringBuilder();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                name.Append(bytes[i].ToString(CultureInfo.InvariantCulture)).Append('.');
            }
        }
        else
        {
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                name.Append("0123456789abcdef"[bytes[i] & 0xF]).Append('.');
                name.Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
            }
        }
        return name.ToString(0, name.Length - 1);
    }

    private static bool IsListing(IPAddress answer)
    {
        var b = answer.GetAddressBytes();
        return b.Length == 4 && b[0] == 127 && !(b[1] == 0 && b[2] == 0 && b[3] == 1) && !(b[1] == 255 && b[2] == 255);
    }
}
