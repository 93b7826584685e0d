using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Plugins.Smtp.MtaSts;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The <c>mx</c> relay: delivers each recipient domain to its mail exchangers (RFC 5321 §5).
/// Recipients are grouped by domain (one transaction per domain, run side by side) and the
/// results are put back in the envelope's recipient order. For each domain the exchangers are
/// tried by preference within one attempt: one that refuses the connection, times out or answers
/// 4xx before the transaction (greeting, EHLO, TLS) is followed by the next. Each exchanger has its
/// own pool of sessions and its own circuit breaker. With <c>mta_sts</c>, a domain's MTA-STS
/// policy (RFC 8461) in enforce mode limits the exchangers to those its <c>mx</c> patterns match
/// and requires verified TLS with each; testing mode logs what enforce would refuse.
/// </summary>
public sealed class MxRelay : IRelay, IAsyncDisposable
{
    /// <summary>
    /// How long a destination (one exchanger's pool and circuit breaker) is kept after its last
    /// delivery once it holds no session, at least: a relay that meets thousands of exchangers must
    /// not keep a pool and its idle timer for each forever. A circuit breaker configured for longer
    /// keeps its destination that long, so an open breaker is never forgotten early.
    /// </summary>
    internal static readonly TimeSpan DestinationLifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, Lazy<PooledDestination>> _destinations = new(StringComparer.OrdinalIgnoreCase);
    private readonly Func<SmtpDestination, PooledDestination> _create;
    private readonly SmtpRelaySettings _settings;
    private readonly MxResolver _resolver;
    private readonly ILogger _logger;
    private readonly MtaStsResolver? _sts;
    private readonly ITimer? _evictor;
    private readonly TimeSpan _lifetime;
    private int _openedByEvicted;
    private int _created;
    private readonly Lock _evictionLock = new();
    private Task _evicting = Task.CompletedTask;

    internal MxRelay(SmtpRelaySettings settings, MxResolver resolver, Func<SmtpDestination, PooledDestination> create, ILogger logger, MtaStsResolver? sts = null, TimeProvider? time = null)
    {
        _settings = settings;
        _resolver = resolver;
        _create = create;
        _logger = logger;
        _sts = sts;
        _lifetime = settings.CircuitBreaker.Duration > DestinationLifetime ? settings.CircuitBreaker.Duration : DestinationLifetime;
        _evictor = time?.CreateTimer(static s => ((MxRelay)s!).StartEviction(), this, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    /// <summary>Destinations (pools) made so far, including those evicted since.</summary>
    internal int DestinationsCreated => Volatile.Read(ref _created);

    /// <summary>Sessions opened so far, over every destination (evicted ones included).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _openedByEvicted) + _destinations.Values.Where(d => d.IsValueCreated).Sum(d => d.Value.ConnectionsOpened);

    /// <summary>The destinations (<c>host:port</c>) that have a pool.</summary>
    public IReadOnlyCollection<string> Destinations => _destinations.Keys.ToList();

    /// <inheritdoc />
    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        int count = envelope.Recipients.Count;
        if (count == 0)
        {
            return new RelayResult([]);
        }
        var groups = new List<(string Domain, List<int> Indexes)>();
        var byDomain = new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < count; i++)
        {
            var domain = Envelope.DomainOf(envelope.Recipients[i]);
            if (!byDomain.TryGetValue(domain, out var indexes))
            {
                indexes = [];
                byDomain[domain] = indexes;
                groups.Add((domain, indexes));
            }
            indexes.Add(i);
        }

        var tasks = groups.Select(g =>
        {
            var part = groups.Count == 1 ? envelope : SubEnvelope(envelope, g.Indexes);
            return DeliverDomainAsync(g.Domain, part, cancellationToken);
        }).ToList();
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);

        var merged = new RecipientResult[count];
        var remotes = new List<string>();
        for (int g = 0; g < groups.Count; g++)
        {
            for (int k = 0; k < groups[g].Indexes.Count; k++)
            {
                merged[groups[g].Indexes[k]] = results[g].Recipients[k];
            }
            if (results[g].RemoteHost is { } remote && !remotes.Contains(remote, StringComparer.OrdinalIgnoreCase))
            {
                remotes.Add(remote);
            }
        }
        return new RelayResult(merged, remotes.Count == 0 ? null : string.Join(", ", remotes));
    }

    /// <summary>
    /// Drops the destinations unused for <see cref="DestinationLifetime"/> (or the circuit
    /// breaker's duration when longer) that hold no session (runs every minute). Returns how many
    /// were dropped.
    /// </summary>
    internal async Task<int> EvictUnusedAsync()
    {
        int evicted = 0;
        foreach (var (key, lazy) in _destinations)
        {
            if (!lazy.IsValueCreated || !lazy.Value.TryRetire(_lifetime))
            {
                continue;
            }
            // A delivery that looks it up meanwhile finds it retired and makes a new one.
            Interlocked.Add(ref _openedByEvicted, lazy.Value.ConnectionsOpened);
            _destinations.TryRemove(new KeyValuePair<string, Lazy<PooledDestination>>(key, lazy));
            await lazy.Value.DisposeAsync().ConfigureAwait(false);
            evicted++;
        }
        if (evicted > 0)
        {
            _logger.LogDebug("Dropped {Count} unused exchanger pool(s)", evicted);
        }
        return evicted;
    }

    private void StartEviction()
    {
        lock (_evictionLock)
        {
            // One pass at a time; DisposeAsync waits for the last one.
            if (_evicting.IsCompleted)
            {
                _evicting = EvictQuietlyAsync();
            }
        }
    }

    private async Task EvictQuietlyAsync()
    {
        try
        {
            await EvictUnusedAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Dropping unused exchanger pools failed");
        }
    }

    /// <summary>Closes every destination's idle sessions (QUIT).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_evictor is not null)
        {
            await _evictor.DisposeAsync().ConfigureAwait(false);
        }
        Task evicting;
        lock (_evictionLock)
        {
            evicting = _evicting;
        }
        await evicting.ConfigureAwait(false);
        foreach (var destination in _destinations.Values.Where(d => d.IsValueCreated))
        {
            await destination.Value.DisposeAsync().ConfigureAwait(false);
        }
        _destinations.Clear();
        if (_sts is not null)
        {
            await _sts.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Envelope SubEnvelope(Envelope envelope, List<int> indexes)
    {
        var part = envelope.CopyWithRecipients(indexes.Select(i => envelope.Recipients[i]));
        part.Id = envelope.Id;
        return part;
    }

    private async Task<RelayResult> DeliverDomainAsync(string domain, Envelope envelope, CancellationToken cancellationToken)
    {
        int count = envelope.Recipients.Count;
        var (candidates, failure) = await RouteAsync(domain, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            _logger.LogWarning("No route for {Id} to {Domain}: {Reply}", envelope.Id, domain, failure);
            return RelayResult.ForAll(count, RecipientResult.FromReply(failure).Outcome, failure);
        }
        DestinationResult last = default;
        foreach (var candidate in candidates)
        {
            var destination = Enter(candidate);
            try
            {
                last = await destination.DeliverAsync(envelope, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                destination.Exit();
            }
            // RFC 5321 §5.1: when an exchanger cannot be reached or will not serve now (4xx
            // before the transaction), try the next one in the same attempt. A transaction that
            // started, or a 5xx greeting, decides the attempt.
            if (!last.NoSession || !last.Result.Recipients[0].Reply.IsTransient)
            {
                return last.Result;
            }
            _logger.LogInformation("{Remote} unavailable for {Domain} ({Reply}); trying the next exchanger",
                candidate.Remote, domain, last.Result.Recipients[0].Reply);
        }
        return last.Result;
    }

    /// <summary>The destination's pool, entered for one delivery (a retired one is replaced).</summary>
    private PooledDestination Enter(SmtpDestination candidate)
    {
        while (true)
        {
            var lazy = _destinations.GetOrAdd(candidate.PoolKey, _ => new Lazy<PooledDestination>(() =>
            {
                Interlocked.Increment(ref _created);
                return _create(candidate);
            }));
            if (lazy.Value.TryEnter())
            {
                return lazy.Value;
            }
            _destinations.TryRemove(new KeyValuePair<string, Lazy<PooledDestination>>(candidate.PoolKey, lazy));
        }
    }

    /// <summary>The destinations to try for <paramref name="domain"/>, in order, or the reply that ends the attempt.</summary>
    private async Task<(IReadOnlyList<SmtpDestination> Candidates, Reply? Failure)> RouteAsync(string domain, CancellationToken cancellationToken)
    {
        if (domain.Length == 0)
        {
            return ([], new Reply(550, "5.1.3", "the recipient address has no domain"));
        }
        if (domain.StartsWith('[') && domain.EndsWith(']'))
        {
            // An address literal (RFC 5321 §4.1.3): deliver to that address, no MX lookup.
            var literal = domain[1..^1];
            if (literal.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            {
                literal = literal[5..];
            }
            return IPAddress.TryParse(literal, out var ip)
                ? ([Direct(ip.ToString(), _settings.Port)], null)
                : ([], new Reply(550, "5.1.2", $"'{domain}' is not a valid address literal"));
        }
        if (_settings.ForceMx.TryGetValue(domain.TrimEnd('.'), out var forced))
        {
            return ([Direct(forced.Host, forced.Port ?? _settings.Port)], null);
        }
        var ascii = MxResolver.ToAscii(domain);
        if (ascii is null)
        {
            return ([], new Reply(550, "5.1.2", $"'{domain}' is not a valid domain"));
        }
        var lookup = await _resolver.LookupMxAsync(ascii, cancellationToken).ConfigureAwait(false);
        if (lookup.Failure is not null)
        {
            return ([], lookup.Failure);
        }
        if (lookup.Implicit)
        {
            // RFC 5321 §5.1: without MX records the domain's own address records are the
            // exchanger; without those either, the domain does not receive mail.
            IReadOnlyList<IPAddress> addresses;
            try
            {
                addresses = await _resolver.ResolveAddressesAsync(ascii, cancellationToken).ConfigureAwait(false);
            }
            catch (AddressLookupException e)
            {
                return ([], e.Reply);
            }
            if (addresses.Count == 0)
            {
                return ([], new Reply(550, "5.1.2", $"the domain {domain} has no MX and no address records"));
            }
        }
        var sts = _sts is null ? null : await _sts.GetPolicyAsync(ascii, cancellationToken).ConfigureAwait(false);
        if (sts is null || sts.Mode == MtaStsMode.None)
        {
            return (lookup.Hosts.Select(h => Direct(h, _settings.Port)).ToList(), null);
        }
        var hosts = new List<SmtpDestination>();
        foreach (var host in lookup.Hosts)
        {
            if (sts.Matches(host))
            {
                hosts.Add(Direct(host, _settings.Port, sts.Mode));
            }
            else if (sts.Mode == MtaStsMode.Testing)
            {
                _logger.LogWarning("MTA-STS (testing mode): {Host} is not an mx of the policy of {Domain}; delivering anyway", host, domain);
                hosts.Add(Direct(host, _settings.Port, MtaStsMode.Testing));
            }
            else
            {
                // RFC 8461 §5.1 / §4.1: an MX host the enforced policy does not list is not used.
                _logger.LogWarning("MTA-STS: {Host} is not an mx of the enforced policy of {Domain}; skipped", host, domain);
            }
        }
        return hosts.Count > 0
            ? (hosts, null)
            : ([], new Reply(451, "4.7.0", $"no MX host of {domain} matches its MTA-STS policy ({string.Join(", ", sts.Mx)})"));
    }

    private SmtpDestination Direct(string host, int port, MtaStsMode sts = MtaStsMode.None) =>
        IPAddress.TryParse(host, out _)
            ? new SmtpDestination(host, port, null, sts)
            : new SmtpDestination(host.ToLowerInvariant(), port, ct => _resolver.ResolveAddressesAsync(host, ct), sts);
}
