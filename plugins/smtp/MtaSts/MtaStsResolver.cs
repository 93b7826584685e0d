using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>
/// Finds the MTA-STS policy of a recipient domain (RFC 8461 §3, §5.1): the
/// <c>_mta-sts.&lt;domain&gt;</c> TXT record (<c>v=STSv1; id=…</c>) is asked on every delivery;
/// the policy file <c>https://mta-sts.&lt;domain&gt;/.well-known/mta-sts.txt</c> is fetched only
/// when no cached policy has that id or the cached one is older than its <c>max_age</c>. The fetch
/// verifies the server certificate, follows no redirect (§3.3), needs a 200 with
/// <c>text/plain</c>, reads at most 64 KiB and is bounded by <c>mta_sts.timeout</c>. When the
/// record is missing or a fetch fails, a cached policy that has not expired still applies (§5.1);
/// without one the domain has no policy. Names are resolved with the relay's own resolver.
/// </summary>
internal sealed class MtaStsResolver : IAsyncDisposable
{
    private const int MaxPolicyBytes = 64 * 1024;
    private readonly ConcurrentDictionary<string, (string Id, MtaStsPolicy Policy, DateTimeOffset Expires)> _cache = new(StringComparer.OrdinalIgnoreCase);
    private readonly MtaStsCacheFile? _file;
    private readonly Lock _savingLock = new();
    private Task _saving = Task.CompletedTask;
    private bool _savePending;
    private readonly MxResolver _dns;
    private readonly MtaStsSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;

    /// <summary>A resolver; with <paramref name="cacheFile"/> (<c>mta_sts.cache_file</c>, resolved) the policies seen are kept across restarts.</summary>
    public MtaStsResolver(MtaStsSettings settings, MxResolver dns, X509Certificate2Collection? cas, TimeProvider time, ILogger logger, string? cacheFile = null)
    {
        _settings = settings;
        _dns = dns;
        _time = time;
        _logger = logger;
        if (cacheFile is not null)
        {
            _file = new MtaStsCacheFile(cacheFile, logger);
            foreach (var entry in _file.Load(time.GetUtcNow()))
            {
                _cache[entry.Domain] = (entry.Id, entry.Policy, entry.Expires);
            }
        }
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        };
        handler.SslOptions.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        if (cas is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => CertificateTrust.IsValid(cas, certificate, errors);
        }
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The policy that applies to <paramref name="domain"/> (ASCII, lower case), or null.</summary>
    public async Task<MtaStsPolicy?> GetPolicyAsync(string domain, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var cached = _cache.TryGetValue(domain, out var entry) && entry.Expires > now ? entry : default;
        var texts = await _dns.LookupTextsAsync("_mta-sts." + domain, cancellationToken).ConfigureAwait(false);
        var records = texts?.Where(t => t.TrimStart().StartsWith("v=STSv1", StringComparison.Ordinal)).ToList();
        // §3.1: exactly one STSv1 record, with an id of 1–32 letters and digits.
        var id = records is { Count: 1 } ? Id(records[0]) : null;
        if (id is null)
        {
            return cached.Policy;
        }
        if (cached.Policy is not null && cached.Id == id)
        {
            return cached.Policy;
        }
        var policy = await FetchAsync(domain, cancellationToken).ConfigureAwait(false);
        if (policy is null)
        {
            return cached.Policy;
        }
        _cache[domain] = (id, policy, now + policy.MaxAge);
        Save();
        _logger.LogInformation("MTA-STS policy of {Domain}: mode {Mode}, mx {Mx}, max_age {MaxAge}s (id {PolicyId})",
            domain, policy.Mode.ToString().ToLowerInvariant(), string.Join(' ', policy.Mx), (long)policy.MaxAge.TotalSeconds, id);
        return policy;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        Task saving;
        lock (_savingLock)
        {
            saving = _saving;
        }
        await saving.ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the cache file after a new policy, off the delivery's thread, one write at a time; a
    /// write already waiting to start takes the newest state anyway, so no second one is queued.
    /// </summary>
    private void Save()
    {
        if (_file is null)
        {
            return;
        }
        lock (_savingLock)
        {
            if (_savePending)
            {
                return;
            }
            _savePending = true;
            var previous = _saving;
            _saving = Task.Run(async () =>
            {
                try
                {
                    await previous.ConfigureAwait(false);
                    lock (_savingLock)
                    {
                        _savePending = false;
                    }
                    var entries = _cache.Select(e => new MtaStsCacheEntry(e.Key, e.Value.Id, e.Value.Policy, e.Value.Expires)).ToList();
                    await _file.SaveAsync(entries, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // The policy still applies from memory; only a restart would forget it.
                    _logger.LogWarning("MTA-STS cache could not be written: {Error}", e.Message);
                }
            });
        }
    }

    private static string? Id(string record)
    {
        foreach (var part in record.Split(';'))
        {
            int eq = part.IndexOf('=');
            if (eq > 0 && part[..eq].Trim() == "id")
            {
                var id = part[(eq + 1)..].Trim();
                return id.Length is >= 1 and <= 32 && id.All(char.IsAsciiLetterOrDigit) ? id : null;
            }
        }
        return null;
    }

    private async Task<MtaStsPolicy?> FetchAsync(string domain, CancellationToken cancellationToken)
    {
        var url = new Uri($"https://mta-sts.{domain}/.well-known/mta-sts.txt");
        using var timeout = new CancellationTokenSource(_settings.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                _logger.LogWarning("MTA-STS policy fetch {Url} answered {Status}", url, (int)response.StatusCode);
                return null;
            }
            if (response.Content.Headers.ContentType is not MediaTypeHeaderValue { MediaType: "text/plain" })
            {
                _logger.LogWarning("MTA-STS policy fetch {Url}: media type {Type}, not text/plain", url, response.Content.Headers.ContentType?.MediaType);
                return null;
            }
            var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[MaxPolicyBytes + 1];
                int total = 0, read;
                while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), linked.Token).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }
                if (total > MaxPolicyBytes)
                {
                    _logger.LogWarning("MTA-STS policy fetch {Url}: larger than {Max} bytes", url, MaxPolicyBytes);
                    return null;
                }
                var policy = MtaStsPolicy.Parse(Encoding.UTF8.GetString(buffer, 0, total));
                if (policy is null)
                {
                    _logger.LogWarning("MTA-STS policy fetch {Url}: not a valid STSv1 policy", url);
                }
                return policy;
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or AddressLookupException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("MTA-STS policy fetch {Url} failed: {Error}", url, e.Message);
            return null;
        }
    }

    /// <summary>Connects to the policy host through the relay's resolver (and <c>https_port</c>).</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await _dns.ResolveAddressesAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        if (addresses.Count == 0)
        {
            throw new HttpRequestException($"{context.DnsEndPoint.Host} has no address");
        }
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, _settings.HttpsPort), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new HttpRequestException($"cannot connect to {context.DnsEndPoint.Host} port {_settings.HttpsPort}", last);
    }
}
