using System.Net;
using System.Net.Sockets;
using Slimta.Smtp.Dns;

namespace Slimta.Smtp.Spf;

/// <summary>
/// RFC 7208 check_host(): whether a client address may send mail for a domain. Every DNS
/// failure ends the evaluation with temperror (§5, §4.4); limits (§4.6.4: 10 DNS-querying terms,
/// 2 void lookups, 10 MX names, 10 PTR names) end it with permerror.
/// </summary>
public sealed class SpfEvaluator
{
    private const int MaxNamesPerLookup = 10;
    private readonly IDnsResolver _dns;
    private readonly string _receivingHost;

    /// <summary>Creates an evaluator asking <paramref name="dns"/>.</summary>
    /// <param name="dns">The resolver.</param>
    /// <param name="receivingHost">This MTA's name (the <c>%{r}</c> macro).</param>
    public SpfEvaluator(IDnsResolver dns, string receivingHost)
    {
        _dns = dns;
        _receivingHost = receivingHost;
    }

    /// <summary>
    /// Checks the MAIL FROM identity (§2.4): the sender's domain, or the HELO name for the null
    /// sender (§2.4: then the sender is postmaster@helo).
    /// </summary>
    public Task<SpfResult> CheckSenderAsync(IPAddress address, string sender, string? helo, CancellationToken cancellationToken)
    {
        helo ??= string.Empty;
        if (sender.Length == 0)
        {
            sender = "postmaster@" + helo;
        }
        else if (sender.LastIndexOf('@') <= 0)
        {
            // §4.3: a sender without local-part uses "postmaster".
            sender = "postmaster@" + sender.TrimStart('@');
        }
        var domain = sender[(sender.LastIndexOf('@') + 1)..];
        return CheckHostAsync(address, domain, sender, helo, cancellationToken);
    }

    /// <summary>check_host(&lt;ip&gt;, &lt;domain&gt;, &lt;sender&gt;) of §4.</summary>
    public Task<SpfResult> CheckHostAsync(IPAddress address, string domain, string sender, string helo, CancellationToken cancellationToken)
    {
        // §5: an IPv4-mapped IPv6 address is evaluated as the IPv4 address.
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var values = new SpfMacroValues(sender, domain, address, helo, _receivingHost);
        return CheckAsync(values, new SpfEvaluation(), cancellationToken);
    }

    private async Task<SpfResult> CheckAsync(SpfMacroValues values, SpfEvaluation evaluation, CancellationToken cancellationToken)
    {
        // §4.3: a malformed domain, or one that is not fully qualified, has no SPF policy.
        if (!IsDomainName(values.Domain))
        {
            return SpfResult.None;
        }
        var texts = await _dns.TextsAsync(values.Domain, cancellationToken).ConfigureAwait(false);
        if (texts.Status == DnsStatus.Error)
        {
            return SpfResult.TempError;
        }
        var records = texts.Records.Where(SpfRecordParser.IsSpfRecord).ToList();
        if (records.Count == 0)
        {
            // §4.5: no record (including NXDOMAIN) is "none".
            return SpfResult.None;
        }
        if (records.Count > 1)
        {
            return SpfResult.PermError;
        }
        var record = SpfRecordParser.Parse(records[0]);
        if (record is null)
        {
            return SpfResult.PermError;
        }
        foreach (var mechanism in record.Mechanisms)
        {
            var match = await MatchAsync(mechanism, values, evaluation, cancellationToken).ConfigureAwait(false);
            if (match is { } final)
            {
                return final;
            }
        }
        // §6.1: redirect applies only when no mechanism matched and there is no "all".
        if (record.Redirect is not null && !record.Mechanisms.Any(m => m.Kind == SpfMechanismKind.All))
        {
            if (!evaluation.CountLookup())
            {
                return SpfResult.PermError;
            }
            var target = ExpandDomain(record.Redirect, values);
            if (target is null)
            {
                return SpfResult.PermError;
            }
            var result = await CheckAsync(values with { Domain = target }, evaluation, cancellationToken).ConfigureAwait(false);
            // §6.1: a redirect to a domain without a record is a permerror.
            return result == SpfResult.None ? SpfResult.PermError : result;
        }
        return SpfResult.Neutral;
    }

    /// <summary>The result when the mechanism matches, permerror/temperror when evaluating it failed, null otherwise.</summary>
    private async Task<SpfResult?> MatchAsync(SpfMechanism mechanism, SpfMacroValues values, SpfEvaluation evaluation, CancellationToken cancellationToken)
    {
        bool ipv6 = values.Address.AddressFamily == AddressFamily.InterNetworkV6;
        int cidr = ipv6 ? mechanism.Cidr6 : mechanism.Cidr4;
        switch (mechanism.Kind)
        {
            case SpfMechanismKind.All:
                return mechanism.Qualifier;
            case SpfMechanismKind.Ip4:
            case SpfMechanismKind.Ip6:
                return mechanism.Network!.AddressFamily == values.Address.AddressFamily
                    && PrefixMatches(mechanism.Network, values.Address, cidr) ? mechanism.Qualifier : null;
        }
        if (!evaluation.CountLookup())
        {
            return SpfResult.PermError;
        }
        var domain = mechanism.DomainSpec is null ? values.Domain : ExpandDomain(mechanism.DomainSpec, values);
        if (domain is null)
        {
            return SpfResult.PermError;
        }
        switch (mechanism.Kind)
        {
            case SpfMechanismKind.Include:
            {
                // §5.2: pass matches; fail, softfail and neutral do not; none is a permerror.
                var result = await CheckAsync(values with { Domain = domain }, evaluation, cancellationToken).ConfigureAwait(false);
                return result switch
                {
                    SpfResult.Pass => mechanism.Qualifier,
                    SpfResult.Fail or SpfResult.SoftFail or SpfResult.Neutral => null,
                    SpfResult.TempError => SpfResult.TempError,
                    _ => SpfResult.PermError,
                };
            }
            case SpfMechanismKind.A:
            {
                var answer = await _dns.AddressesAsync(domain, ipv6, cancellationToken).ConfigureAwait(false);
                var failure = Failure(answer.Status, evaluation);
                if (failure is not null)
                {
                    return failure == SpfResult.None ? null : failure;
                }
                return answer.Records.Any(a => PrefixMatches(a, values.Address, cidr)) ? mechanism.Qualifier : null;
            }
            case SpfMechanismKind.Mx:
            {
                var answer = await _dns.MailExchangersAsync(domain, cancellationToken).ConfigureAwait(false);
                var failure = Failure(answer.Status, evaluation);
                if (failure is not null)
                {
                    return failure == SpfResult.None ? null : failure;
                }
                // §4.6.4: more than 10 MX names is a permerror.
                if (answer.Records.Count > MaxNamesPerLookup)
                {
                    return SpfResult.PermError;
                }
                foreach (var mx in answer.Records.OrderBy(m => m.Preference))
                {
                    var addresses = await _dns.AddressesAsync(mx.Exchange, ipv6, cancellationToken).ConfigureAwait(false);
                    if (addresses.Status == DnsStatus.Error)
                    {
                        return SpfResult.TempError;
                    }
                    if (addresses.Records.Any(a => PrefixMatches(a, values.Address, cidr)))
                    {
                        return mechanism.Qualifier;
                    }
                }
                return null;
            }
            case SpfMechanismKind.Ptr:
            {
                var names = await _dns.ReverseAsync(values.Address, cancellationToken).ConfigureAwait(false);
                // §5.5: a PTR lookup failure is simply no match.
                if (names.Status != DnsStatus.Found)
                {
                    return null;
                }
                foreach (var name in names.Records.Take(MaxNamesPerLookup))
                {
                    if (!name.Equals(domain, StringComparison.OrdinalIgnoreCase) && !name.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }
                    var forward = await _dns.AddressesAsync(name, ipv6, cancellationToken).ConfigureAwait(false);
                    if (forward.Records.Any(a => a.Equals(values.Address)))
                    {
                        return mechanism.Qualifier;
                    }
                }
                return null;
            }
            case SpfMechanismKind.Exists:
            {
                // §5.7: an A query whatever the client's address family.
                var answer = await _dns.AddressesAsync(domain, ipv6: false, cancellationToken).ConfigureAwait(false);
                var failure = Failure(answer.Status, evaluation);
                if (failure is not null)
                {
                    return failure == SpfResult.None ? null : failure;
                }
                return mechanism.Qualifier;
            }
            default:
                return SpfResult.PermError;
        }
    }

    /// <summary>TempError on a DNS error; None for a void lookup within the limit; PermError past it; null when found.</summary>
    private static SpfResult? Failure(DnsStatus status, SpfEvaluation evaluation) => status switch
    {
        DnsStatus.Error => SpfResult.TempError,
        DnsStatus.NotFound => evaluation.CountVoid() ? SpfResult.None : SpfResult.PermError,
        _ => null,
    };

    private static string? ExpandDomain(string spec, SpfMacroValues values)
    {
        var expanded = SpfMacro.Expand(spec, values, explanation: false);
        if (expanded is null)
        {
            return null;
        }
        expanded = expanded.TrimEnd('.');
        // §7.3: when an expanded domain-spec is longer than 253 characters, drop labels from the left.
        while (expanded.Length > 253)
        {
            int dot = expanded.IndexOf('.');
            if (dot < 0)
            {
                return null;
            }
            expanded = expanded[(dot + 1)..];
        }
        return expanded;
    }

    private static bool IsDomainName(string domain)
    {
        if (domain.Length == 0 || domain.Length > 253 || !domain.Contains('.'))
        {
            return false;
        }
        foreach (var label in domain.TrimEnd('.').Split('.'))
        {
            // An address literal ([192.0.2.1], [IPv6:…]) as HELO or MAIL FROM domain is not a
            // domain name (§2.3, §4.3): "none", not a query that fails and reads as temperror.
            if (label.Length == 0 || label.Length > 63 || label.Any(c => c is '[' or ']' or ':' or '@' or '\\' || char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                return false;
            }
        }
        return true;
    }

    private static bool PrefixMatches(IPAddress network, IPAddress address, int bits)
    {
        if (network.AddressFamily != address.AddressFamily)
        {
            return false;
        }
        var a = network.GetAddressBytes();
        var b = address.GetAddressBytes();
        int full = bits / 8;
        for (int i = 0; i < full; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }
        int rest = bits % 8;
        if (rest == 0)
        {
            return true;
        }
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (a[full] & mask) == (b[full] & mask);
    }
}
