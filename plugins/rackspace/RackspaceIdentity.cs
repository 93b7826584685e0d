using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// Gets and caches Identity v2.0 tokens: <c>POST &lt;endpoint&gt;/tokens</c> with
/// <c>RAX-KSKEY:apiKeyCredentials</c> (api_key) or <c>passwordCredentials</c> (password), then picks
/// the Cloud Files (<c>object-store</c> / <c>cloudFiles</c>) and Cloud Queues (<c>rax:queues</c> /
/// <c>cloudQueues</c>) publicURLs of the region from the service catalog. The token is reused until
/// shortly before it expires; <see cref="Invalidate"/> (after a 401) drops it so the next caller
/// authenticates again. One authentication runs at a time, however many callers wait for it.
/// </summary>
internal sealed class RackspaceIdentity
{
    private readonly RackspaceSettings _settings;
    private readonly RackspaceTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RackspaceAccess? _current;
    private int _authentications;

    public RackspaceIdentity(RackspaceSettings settings, RackspaceTransport transport, TimeProvider time, ILogger log)
    {
        _settings = settings;
        _transport = transport;
        _time = time;
        _log = log;
    }

    /// <summary>How many tokens were requested so far (for tests and logs).</summary>
    public int Authentications => Volatile.Read(ref _authentications);

    /// <summary>A valid token with endpoints: the cached one, or a new one.</summary>
    public async ValueTask<RackspaceAccess> GetAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && _time.GetUtcNow() < current.RenewAt)
        {
            return current;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _current;
            if (current is not null && _time.GetUtcNow() < current.RenewAt)
            {
                return current; // another caller renewed it meanwhile
            }
            current = await AuthenticateAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _current, current);
            return current;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Drops <paramref name="used"/> if it is still the cached token (a 401 said it is no longer valid).</summary>
    public void Invalidate(RackspaceAccess used) => Interlocked.CompareExchange(ref _current, null, used);

    private async Task<RackspaceAccess> AuthenticateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _authentications);
        var url = new Uri(_settings.Endpoint.AbsoluteUri.TrimEnd('/') + "/tokens");
        var payload = RequestBody();
        var response = await _transport.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = Json(payload),
            Headers = { Accept = { new MediaTypeWithQualityHeaderValue("application/json") } },
        }, "identity POST /tokens", cancellationToken).ConfigureAwait(false);
        if (response.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new RackspaceException($"identity at {_settings.Endpoint} refused the credentials of user '{_settings.Username}' ({(int)response.Status})");
        }
        if (response.Status != HttpStatusCode.OK)
        {
            throw new RackspaceException("identity POST /tokens", response.Status);
        }
        var access = Parse(response.Body);
        _log.LogDebug("queue={Queue} rackspace token for user {User} valid until {Expires:O}; files={Files} queues={Queues}", _settings.Name, _settings.Username, access.Expires, access.FilesUrl, access.QueuesUrl);
        return access;
    }

    private byte[] RequestBody()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("auth");
            if (_settings.ApiKey is { } apiKey)
            {
                w.WriteStartObject("RAX-KSKEY:apiKeyCredentials");
                w.WriteString("username", _settings.Username);
                w.WriteString("apiKey", apiKey);
            }
            else
            {
                w.WriteStartObject("passwordCredentials");
                w.WriteString("username", _settings.Username);
                w.WriteString("password", _settings.Password);
            }
            w.WriteEndObject();
            if (_settings.TenantId is { } tenant)
            {
                w.WriteString("tenantId", tenant);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    internal static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private RackspaceAccess Parse(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var access = doc.RootElement.GetProperty("access");
            var token = access.GetProperty("token");
            var id = token.GetProperty("id").GetString() ?? throw new RackspaceException("identity: token without an id");
            var expires = DateTimeOffset.Parse(token.GetProperty("expires").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            string? tenant = token.TryGetProperty("tenant", out var t) && t.TryGetProperty("id", out var tid) ? tid.GetString() : null;
            string? region = _settings.Region;
            if (region is null && access.TryGetProperty("user", out var user) && user.TryGetProperty("RAX-AUTH:defaultRegion", out var dr) && dr.ValueKind == JsonValueKind.String && dr.GetString() is { Length: > 0 } d)
            {
                region = d; // Rackspace's per-user default, as the control panel uses it
            }
            var catalog = access.GetProperty("serviceCatalog");
            var files = FindEndpoint(catalog, "object-store", "cloudFiles", region, out var filesTenant)
                ?? throw new RackspaceException($"identity: the service catalog has no Cloud Files (object-store) endpoint{InRegion(region)}");
            Uri? queues = null;
            string? queuesTenant = null;
            if (_settings.QueueName is not null)
            {
                queues = FindEndpoint(catalog, "rax:queues", "cloudQueues", region, out queuesTenant)
                    ?? throw new RackspaceException($"identity: the service catalog has no Cloud Queues (rax:queues) endpoint{InRegion(region)}");
            }
            var now = _time.GetUtcNow();
            // Renew ahead of expiry (5 minutes, or a quarter of a short lifetime), so a call never
            // starts with a token that runs out while it is on the wire.
            var lifetime = expires - now;
            var margin = TimeSpan.FromTicks(Math.Clamp(lifetime.Ticks / 4, 0, TimeSpan.FromMinutes(5).Ticks));
            return new RackspaceAccess(id, expires, expires - margin, files, queues, tenant ?? queuesTenant ?? filesTenant);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or UriFormatException)
        {
            throw new RackspaceException("identity: the token response is not a v2.0 access document: " + e.Message, e);
        }
    }

    private static string InRegion(string? region) => region is null ? string.Empty : $" in region {region}";

    private static Uri? FindEndpoint(JsonElement catalog, string type, string name, string? region, out string? tenant)
    {
        tenant = null;
        foreach (var service in catalog.EnumerateArray())
        {
            bool match = (service.TryGetProperty("type", out var t) && string.Equals(t.GetString(), type, StringComparison.OrdinalIgnoreCase))
                || (service.TryGetProperty("name", out var n) && string.Equals(n.GetString(), name, StringComparison.OrdinalIgnoreCase));
            if (!match || !service.TryGetProperty("endpoints", out var endpoints))
            {
                continue;
            }
            foreach (var endpoint in endpoints.EnumerateArray())
            {
                string? r = endpoint.TryGetProperty("region", out var re) ? re.GetString() : null;
                if (region is not null && r is not null && !string.Equals(r, region, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                if (endpoint.TryGetProperty("publicURL", out var url) && url.GetString() is { } text)
                {
                    tenant = endpoint.TryGetProperty("tenantId", out var ti) ? ti.GetString() : null;
                    return new Uri(text.TrimEnd('/') + "/");
                }
            }
        }
        return null;
    }
}
