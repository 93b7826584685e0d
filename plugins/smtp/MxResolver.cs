using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// MX and address lookups for the <c>mx</c> relay through DnsClient, against the configured
/// servers (<c>dns.servers</c>) or the system's. Caching is off: every attempt asks again, so
/// the answers follow the DNS server's TTLs without a second clock, and a fixed DNS problem is
/// seen on the next retry.
/// </summary>
internal sealed class MxResolver
{
    private readonly LookupClient _client;
    private readonly bool _ipv4Only;

    public MxResolver(DnsSettings settings, bool ipv4Only)
    {
        var options = settings.Servers.Count > 0 ? new LookupClientOptions([.. settings.Servers]) : new LookupClientOptions();
        options.Timeout = settings.Timeout;
        options.Retries = 1;
        options.UseCache = false;
        options.ThrowDnsErrors = false;
        options.UseTcpFallback = true;
        // An error answer (NXDOMAIN, SERVFAIL) is an answer: report it, do not ask another server.
        options.ContinueOnDnsError = false;
        options.ContinueOnEmptyResponse = false;
        _client = new LookupClient(options);
        _ipv4Only = ipv4Only;
    }

    /// <summary>
    /// The exchangers of <paramref name="domain"/> by preference (RFC 5321 §5.1; equal preferences
    /// in random order to spread load). No MX records: the domain itself (implicit MX). A null
    /// MX (RFC 7505): 556 5.1.10. NXDOMAIN: 550 5.1.2. Any other DNS failure or a timeout: 451 4.4.3.
    /// </summary>
    public async Task<MxLookup> LookupMxAsync(string domain, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(domain, QueryType.MX, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            return MxLookup.Fail(new Reply(451, "4.4.3", $"MX lookup for {domain} failed: {e.Code}"));
        }
        catch (ArgumentException e)
        {
            return MxLookup.Fail(new Reply(550, "5.1.2", $"'{domain}' is not a valid domain: {e.Message}"));
        }
        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return MxLookup.Fail(new Reply(550, "5.1.2", $"the domain {domain} does not exist (NXDOMAIN)"));
        }
        if (response.HasError)
        {
            return MxLookup.Fail(new Reply(451, "4.4.3", $"MX lookup for {domain} failed: {response.Header.ResponseCode}"));
        }
        var records = response.Answers.MxRecords().ToList();
        if (records.Count == 0)
        {
            return new MxLookup([domain], Implicit: true, Failure: null);
        }
        if (records.Any(r => IsRoot(r.Exchange.Value)))
        {
            // RFC 7505 §3: a single MX of preference 0 and exchange "." says the domain accepts no
            // mail; §4.2 suggests 556 5.1.10. A "." among other MX records is a misconfiguration
            // that is treated the same way, since "." can never be connected to.
            return MxLookup.Fail(new Reply(556, "5.1.10", $"the domain {domain} accepts no mail (null MX, RFC 7505)"));
        }
        var hosts = records
            .OrderBy(r => r.Preference)
            .ThenBy(_ => Random.Shared.Next())
            .Select(r => r.Exchange.Value.TrimEnd('.'))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        return new MxLookup(hosts, Implicit: false, Failure: null);
    }

    /// <summary>
    /// The addresses of <paramref name="host"/>: A records, then AAAA unless <c>ipv4_only</c>.
    /// Empty when the name has none; a DNS failure throws <see cref="AddressLookupException"/>
    /// (transient, 4.4.3).
    /// </summary>
    public async Task<IReadOnlyList<IPAddress>> ResolveAddressesAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }
        var addresses = new List<IPAddress>();
        addresses.AddRange(await QueryAddressesAsync(host, QueryType.A, cancellationToken).ConfigureAwait(false));
        if (!_ipv4Only)
        {
            addresses.AddRange(await QueryAddressesAsync(host, QueryType.AAAA, cancellationToken).ConfigureAwait(false));
        }
        return addresses.Where(a => !_ipv4Only || a.AddressFamily == AddressFamily.InterNetwork).ToList();
    }

    /// <summary>
    /// The TXT records of <paramref name="name"/>, each one's strings joined (for MTA-STS). Empty
    /// when the name has none; null on a DNS failure.
    /// </summary>
    public async Task<IReadOnlyList<string>?> LookupTextsAsync(string name, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DnsResponseException or ArgumentException)
        {
            return null;
        }
        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return [];
        }
        return response.HasError ? null : response.Answers.TxtRecords().Select(t => string.Concat(t.Text)).ToList();
    }

    private async Task<IEnumerable<IPAddress>> QueryAddressesAsync(string host, QueryType type, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(host, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            throw new AddressLookupException(new Reply(451, "4.4.3", $"{type} lookup for {host} failed: {e.Code}"));
        }
        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return [];
        }
        if (response.HasError)
        {
            throw new AddressLookupException(new Reply(451, "4.4.3", $"{type} lookup for {host} failed: {response.Header.ResponseCode}"));
        }
        return type == QueryType.A
            ? response.Answers.ARecords().Select(r => r.Address)
            : response.Answers.AaaaRecords().Select(r => r.Address);
    }

    private static bool IsRoot(string name) => name.Length == 0 || name == ".";

    /// <summary>The ASCII (A-label) form of a domain for DNS (RFC 5890); null when it is not a valid name.</summary>
    public static string? ToAscii(string domain)
    {
        try
        {
            return new IdnMapping().GetAscii(domain.TrimEnd('.')).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
