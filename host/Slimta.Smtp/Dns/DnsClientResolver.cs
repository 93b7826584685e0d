using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Slimta.Smtp.Dns;

/// <summary><see cref="IDnsResolver"/> over DnsClient's <see cref="LookupClient"/>.</summary>
public sealed class DnsClientResolver : IDnsResolver
{
    private readonly LookupClient _client;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    /// <summary>Creates a resolver for <paramref name="settings"/>.</summary>
    public DnsClientResolver(DnsSettings settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = settings.Servers.Count == 0
            ? new LookupClientOptions()
            : new LookupClientOptions(settings.Servers.Select(s => new NameServer(s)).ToArray());
        options.Timeout = settings.Timeout;
        options.Retries = 1;
        options.UseCache = true;
        // Errors are answers here (SERVFAIL is a temperror, not an exception), and an error from
        // one server must not be hidden by asking the next one for a different answer.
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        options.UseTcpFallback = true;
        _client = new LookupClient(options);
        _timeout = settings.Timeout;
        _time = time;
    }

    /// <inheritdoc />
    public Task<DnsAnswer<IPAddress>> AddressesAsync(string name, bool ipv6, CancellationToken cancellationToken) =>
        QueryAsync(name, ipv6 ? QueryType.AAAA : QueryType.A, r => ipv6
            ? r.Answers.AaaaRecords().Select(a => a.Address).ToList()
            : r.Answers.ARecords().Select(a => a.Address).ToList(), cancellationToken);

    /// <inheritdoc />
    public Task<DnsAnswer<string>> TextsAsync(string name, CancellationToken cancellationToken) =>
        QueryAsync(name, QueryType.TXT, r => r.Answers.TxtRecords().Select(t => string.Concat(t.Text)).ToList(), cancellationToken);

    /// <inheritdoc />
    public Task<DnsAnswer<MxHost>> MailExchangersAsync(string name, CancellationToken cancellationToken) =>
        QueryAsync(name, QueryType.MX, r => r.Answers.MxRecords().Select(m => new MxHost(m.Preference, TrimDot(m.Exchange.Value))).ToList(), cancellationToken);

    /// <inheritdoc />
    public Task<DnsAnswer<string>> ReverseAsync(IPAddress address, CancellationToken cancellationToken) =>
        QueryAsync(address.GetArpaName(), QueryType.PTR, r => r.Answers.PtrRecords().Select(p => TrimDot(p.PtrDomainName.Value)).ToList(), cancellationToken);

    private async Task<DnsAnswer<T>> QueryAsync<T>(string name, QueryType type, Func<IDnsQueryResponse, List<T>> select, CancellationToken cancellationToken)
    {
        // DnsClient's own timeout covers one attempt; this one bounds the whole query.
        using var timeout = new CancellationTokenSource(_timeout + _timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, type, QueryClass.IN, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DnsAnswer<T>.Error;
        }
        catch (Exception ex) when (ex is DnsResponseException or System.Net.Sockets.SocketException or ArgumentException or IOException)
        {
            // Bad names (too long labels) are ArgumentExceptions in DnsClient; a name that cannot
            // be asked cannot match either, but it is not "no record": report an error.
            return DnsAnswer<T>.Error;
        }
        if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return DnsAnswer<T>.NotFound;
        }
        if (response.HasError)
        {
            return DnsAnswer<T>.Error;
        }
        return DnsAnswer<T>.Of(select(response));
    }

    private static string TrimDot(string name) => name.EndsWith('.') ? name[..^1] : name;
}
