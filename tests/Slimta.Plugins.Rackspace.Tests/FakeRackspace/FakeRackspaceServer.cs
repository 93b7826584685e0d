using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Slimta.Plugins.Rackspace.Tests.FakeRackspace;

/// <summary>
/// A local stand-in for Rackspace Cloud, implementing the calls the rackspace storage makes as
/// Rackspace and OpenStack document them, with their status codes and limits:
/// <list type="bullet">
/// <item>Identity v2.0 <c>POST /v2.0/tokens</c> (passwordCredentials or RAX-KSKEY:apiKeyCredentials;
/// 200 with token, expiry and a service catalog of two regions; 401 for bad credentials). Every other
/// call needs a valid, unexpired X-Auth-Token or gets 401.</item>
/// <item>Cloud Files (Swift v1) at <c>/v1/MossoCloudFS_&lt;REGION&gt;_&lt;tenant&gt;/…</c>: container PUT
/// 201/202, JSON listing with limit/marker (capped at <see cref="ListingLimit"/>), object PUT 201
/// (404 without container), GET/HEAD 200/404, POST 202 replacing every X-Object-Meta-*, DELETE
/// 204/404; metadata limits (256-byte values, 4096 bytes overall) give 400.</item>
/// <item>Cloud Queues (Zaqar/Marconi v1) at <c>/v1/&lt;tenant&gt;/queues/…</c> and <c>/v1/queues/…</c>
/// (with X-Project-Id): Client-ID required (400); queue PUT 201/204; message POST 201 with resources
/// hrefs (ttl 60–1209600); claim POST 201/204 (ttl and grace 60–43200, limit 1–20; claimed messages
/// live at least ttl + grace); claim PATCH 204/404 (expired), DELETE 204 (releases); message DELETE
/// by href 204, 403 when it is claimed by another or the given claim expired.</item>
/// </list>
/// Times come from a <see cref="TimeProvider"/>, so tests can expire tokens and claims.
/// </summary>
public sealed class FakeRackspaceServer : IAsyncDisposable
{
    public const string Username = "slimta";
    public const string ApiKey = "0123456789abcdef";
    public const string Password = "correct horse";
    public const string Tenant = "123456";

    private readonly TimeProvider _time;
    private readonly FakeHttpServer _http;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<string, SwiftObject>> _containers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<QueueMessage>> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Queue, DateTimeOffset Expires)> _claims = new(StringComparer.Ordinal);
    private readonly List<FakeRequestLog> _log = [];
    private int _authentications;
    private long _nextId;

    public FakeRackspaceServer(TimeProvider? time = null, X509Certificate2? certificate = null)
    {
        _time = time ?? TimeProvider.System;
        _http = new FakeHttpServer(Handle, certificate);
    }

    /// <summary>How long a new token lives.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The most names one container listing returns (Swift's container_listing_limit).</summary>
    public int ListingLimit { get; set; } = 10000;

    /// <summary>When true every call (identity included) gets 503, as during a service outage.</summary>
    public bool Unavailable { get; set; }

    /// <summary>When true only Cloud Queues calls get 503 (Cloud Files keeps working).</summary>
    public bool QueuesUnavailable { get; set; }

    public string BaseUrl => $"{_http.Scheme}://127.0.0.1:{_http.Port}";

    /// <summary>The Identity v2.0 endpoint, for the <c>endpoint</c> key.</summary>
    public string IdentityUrl => BaseUrl + "/v2.0/";

    public int Authentications => Volatile.Read(ref _authentications);

    /// <summary>Stops listening (connections refused) until <see cref="Start"/>.</summary>
    public void Stop() => _http.Stop();

    public void Start() => _http.Start();

    /// <summary>Revokes every issued token: the next call with one gets 401.</summary>
    public void ExpireAllTokens()
    {
        lock (_lock)
        {
            _tokens.Clear();
        }
    }

    public IReadOnlyList<FakeRequestLog> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>Object names in a container of a region (default DFW), or null when it does not exist.</summary>
    public IReadOnlyList<string>? ObjectNames(string container, string region = "DFW")
    {
        lock (_lock)
        {
            return _containers.TryGetValue(Account(region) + "/" + container, out var c) ? [.. c.Keys] : null;
        }
    }

    public SwiftObject? GetObject(string container, string name, string region = "DFW")
    {
        lock (_lock)
        {
            return _containers.TryGetValue(Account(region) + "/" + container, out var c) && c.TryGetValue(name, out var o) ? o : null;
        }
    }

    /// <summary>Replaces an object's bytes (to test unreadable objects).</summary>
    public void CorruptObject(string container, string name, byte[] body, string region = "DFW")
    {
        lock (_lock)
        {
            var c = _containers[Account(region) + "/" + container];
            c[name] = c[name] with { Body = body };
        }
    }

    /// <summary>The live (unexpired) messages of a queue, oldest first.</summary>
    public IReadOnlyList<QueueMessage> QueueMessages(string queue)
    {
        lock (_lock)
        {
            return _queues.TryGetValue(queue, out var q) ? [.. q.Where(m => m.Expires > _time.GetUtcNow())] : [];
        }
    }

    private static string Account(string region) => $"MossoCloudFS_{region}_{Tenant}";

    private FakeHttpResponse Handle(FakeHttpRequest request)
    {
        FakeHttpResponse response;
        lock (_lock)
        {
            response = Route(request);
            _log.Add(new FakeRequestLog(request.Method, request.Path, response.Status, request.Header("Client-ID"), request.Header("X-Project-Id")));
        }
        return response;
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    private FakeHttpResponse Route(FakeHttpRequest r)
    {
        if (Unavailable)
        {
            return FakeHttpResponse.Text(503, "Service Unavailable");
        }
        if (r.Path == "/v2.0/tokens")
        {
            return r.Method == "POST" ? Tokens(r) : FakeHttpResponse.Empty(405);
        }
        var segments = r.Path.Split('/').Skip(1).Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length < 2 || segments[0] != "v1")
        {
            return FakeHttpResponse.Text(404, "Not Found");
        }
        if (r.Header("X-Auth-Token") is not { } token || !_tokens.TryGetValue(token, out var expires) || Now >= expires)
        {
            return FakeHttpResponse.Text(401, "401 Unauthorized: Authentication required");
        }
        if (segments[1].StartsWith("MossoCloudFS_", StringComparison.Ordinal))
        {
            return Swift(r, segments[1], segments[2..]);
        }
        if (segments[1] == "queues")
        {
            // Without the tenant in the path, Rackspace requires X-Project-Id.
            if (r.Header("X-Project-Id") != Tenant)
            {
                return Error(400, "The header X-Project-ID was missing or invalid");
            }
            return Queues(r, segments[2..]);
        }
        if (segments[1] == Tenant && segments.Length > 2 && segments[2] == "queues")
        {
            return Queues(r, segments[3..]);
        }
        return FakeHttpResponse.Text(404, "Not Found");
    }

    private static FakeHttpResponse Error(int status, string description) =>
        FakeHttpResponse.Json(status, JsonSerializer.Serialize(new Dictionary<string, string> { ["title"] = status == 400 ? "Invalid API call" : "Error", ["description"] = description }));

    // ---- Identity v2.0 ----

    private FakeHttpResponse Tokens(FakeHttpRequest r)
    {
        JsonNode? auth;
        try
        {
            auth = JsonNode.Parse(r.Body)?["auth"];
        }
        catch (JsonException)
        {
            auth = null;
        }
        if (auth is null)
        {
            return FakeHttpResponse.Json(400, """{"badRequest":{"code":400,"message":"Invalid json request body"}}""");
        }
        bool ok;
        if (auth["RAX-KSKEY:apiKeyCredentials"] is { } key)
        {
            ok = (string?)key["username"] == Username && (string?)key["apiKey"] == ApiKey;
        }
        else if (auth["passwordCredentials"] is { } pw)
        {
            ok = (string?)pw["username"] == Username && (string?)pw["password"] == Password;
        }
        else
        {
            return FakeHttpResponse.Json(400, """{"badRequest":{"code":400,"message":"Invalid json request body"}}""");
        }
        if (!ok)
        {
            return FakeHttpResponse.Json(401, """{"unauthorized":{"code":401,"message":"Username or api key is invalid."}}""");
        }
        Interlocked.Increment(ref _authentications);
        var token = Guid.NewGuid().ToString("N");
        var expires = Now + TokenLifetime;
        _tokens[token] = expires;
        var regions = new[] { "DFW", "ORD" };
        var access = new JsonObject
        {
            ["token"] = new JsonObject
            {
                ["id"] = token,
                ["expires"] = expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["tenant"] = new JsonObject { ["id"] = Tenant, ["name"] = Tenant },
                ["RAX-AUTH:authenticatedBy"] = new JsonArray(auth["passwordCredentials"] is null ? "APIKEY" : "PASSWORD"),
            },
            ["serviceCatalog"] = new JsonArray(
                Service("cloudFiles", "object-store", regions.Select(g => ($"{BaseUrl}/v1/{Account(g)}", g, $"MossoCloudFS_{g}_{Tenant}"))),
                Service("cloudQueues", "rax:queues", regions.Select(g => ($"{BaseUrl}/v1/{Tenant}", g, Tenant))),
                Service("cloudServersOpenStack", "compute", regions.Select(g => ($"{BaseUrl}/compute/v2/{Tenant}", g, Tenant)))),
            ["user"] = new JsonObject
            {
                ["id"] = "170454",
                ["name"] = Username,
                ["RAX-AUTH:defaultRegion"] = "DFW",
                ["roles"] = new JsonArray(new JsonObject { ["id"] = "3", ["name"] = "identity:user-admin" }),
            },
        };
        return FakeHttpResponse.Json(200, new JsonObject { ["access"] = access }.ToJsonString());
    }

    private static JsonObject Service(string name, string type, IEnumerable<(string Url, string Region, string TenantId)> endpoints) => new()
    {
        ["name"] = name,
        ["type"] = type,
        ["endpoints"] = new JsonArray([.. endpoints.Select(e => (JsonNode)new JsonObject
        {
            ["region"] = e.Region,
            ["tenantId"] = e.TenantId,
            ["publicURL"] = e.Url,
            ["internalURL"] = e.Url.Replace("127.0.0.1", "snet.invalid", StringComparison.Ordinal),
        })]),
    };

    // ---- Cloud Files (Swift) ----

    private FakeHttpResponse Swift(FakeHttpRequest r, string account, string[] rest)
    {
        if (rest.Length == 0 || rest[0].Length == 0)
        {
            return FakeHttpResponse.Text(404, "Not Found");
        }
        var key = account + "/" + rest[0];
        if (rest.Length == 1 || (rest.Length == 2 && rest[1].Length == 0))
        {
            switch (r.Method)
            {
                case "PUT":
                    if (_containers.ContainsKey(key))
                    {
                        return FakeHttpResponse.Empty(202);
                    }
                    _containers[key] = new SortedDictionary<string, SwiftObject>(StringComparer.Ordinal);
                    return FakeHttpResponse.Empty(201);
                case "GET":
                    return _containers.TryGetValue(key, out var c) ? Listing(r, c) : FakeHttpResponse.Text(404, "Not Found");
                default:
                    return FakeHttpResponse.Empty(405);
            }
        }
        var name = string.Join('/', rest[1..]);
        if (!_containers.TryGetValue(key, out var container))
        {
            return FakeHttpResponse.Text(404, "Not Found");
        }
        switch (r.Method)
        {
            case "PUT":
            {
                if (Metadata(r) is not { } meta)
                {
                    return FakeHttpResponse.Text(400, "Metadata value longer than 256 or metadata too large");
                }
                container[name] = new SwiftObject(r.Body, r.Header("Content-Type") ?? "application/octet-stream", meta, Now);
                return FakeHttpResponse.Empty(201, new KeyValuePair<string, string>("ETag", ETag(r.Body)));
            }
            case "GET":
            case "HEAD":
            {
                if (!container.TryGetValue(name, out var o))
                {
                    return FakeHttpResponse.Text(404, "Not Found");
                }
                var headers = new List<KeyValuePair<string, string>>
                {
                    new("Content-Type", o.ContentType),
                    new("Content-Length", o.Body.Length.ToString(CultureInfo.InvariantCulture)),
                    new("ETag", ETag(o.Body)),
                    new("Last-Modified", o.LastModified.ToString("r", CultureInfo.InvariantCulture)),
                    new("Accept-Ranges", "bytes"),
                };
                headers.AddRange(o.Metadata.Select(m => new KeyValuePair<string, string>("X-Object-Meta-" + m.Key, m.Value)));
                return new FakeHttpResponse(200, headers, o.Body);
            }
            case "POST":
            {
                if (!container.TryGetValue(name, out var o))
                {
                    return FakeHttpResponse.Text(404, "Not Found");
                }
                if (Metadata(r) is not { } meta)
                {
                    return FakeHttpResponse.Text(400, "Metadata value longer than 256 or metadata too large");
                }
                // A POST replaces every X-Object-Meta-* of the object (Swift "fast-POST").
                container[name] = o with { Metadata = meta, LastModified = Now };
                return FakeHttpResponse.Text(202, "The request is accepted for processing.");
            }
            case "DELETE":
                return container.Remove(name) ? FakeHttpResponse.Empty(204) : FakeHttpResponse.Text(404, "Not Found");
            default:
                return FakeHttpResponse.Empty(405);
        }
    }

    private FakeHttpResponse Listing(FakeHttpRequest r, SortedDictionary<string, SwiftObject> container)
    {
        int limit = ListingLimit;
        if (r.Query.TryGetValue("limit", out var l))
        {
            if (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit > 10000)
            {
                return FakeHttpResponse.Text(412, "Maximum limit is 10000");
            }
            limit = Math.Min(limit, ListingLimit);
        }
        r.Query.TryGetValue("marker", out var marker);
        var names = container.Where(kv => marker is null || string.CompareOrdinal(kv.Key, marker) > 0).Take(limit).ToList();
        if (r.Query.GetValueOrDefault("format") == "json")
        {
            var array = new JsonArray([.. names.Select(kv => (JsonNode)new JsonObject
            {
                ["name"] = kv.Key,
                ["hash"] = ETag(kv.Value.Body),
                ["bytes"] = kv.Value.Body.Length,
                ["content_type"] = kv.Value.ContentType,
                ["last_modified"] = kv.Value.LastModified.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
            })]);
            return FakeHttpResponse.Json(200, array.ToJsonString());
        }
        return names.Count == 0 ? FakeHttpResponse.Empty(204) : FakeHttpResponse.Text(200, string.Concat(names.Select(n => n.Key + "\n")));
    }

    /// <summary>The X-Object-Meta-* headers of a request, names title-cased as Swift stores them; null when over Swift's limits.</summary>
    private static Dictionary<string, string>? Metadata(FakeHttpRequest r)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        int overall = 0;
        foreach (var (name, value) in r.Headers)
        {
            if (!name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var key = string.Join('-', name["X-Object-Meta-".Length..].Split('-').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
            if (key.Length > 128 || Encoding.UTF8.GetByteCount(value) > 256)
            {
                return null;
            }
            overall += key.Length + Encoding.UTF8.GetByteCount(value);
            meta[key] = value;
        }
        return overall > 4096 || meta.Count > 90 ? null : meta;
    }

    private static string ETag(byte[] body) => Convert.ToHexStringLower(MD5.HashData(body));

    // ---- Cloud Queues (Zaqar v1) ----

    private FakeHttpResponse Queues(FakeHttpRequest r, string[] rest)
    {
        if (QueuesUnavailable)
        {
            return FakeHttpResponse.Text(503, "Service Unavailable");
        }
        if (rest.Length == 0 || rest[0].Length == 0)
        {
            return FakeHttpResponse.Text(404, "Not Found");
        }
        var queue = rest[0];
        if (queue.Length > 64 || !queue.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-'))
        {
            return Error(400, "Queue names may not be more than 64 characters long and may only contain ASCII letters, digits, underscores and dashes");
        }
        if (rest.Length == 1)
        {
            if (r.Method != "PUT")
            {
                return FakeHttpResponse.Empty(405);
            }
            if (_queues.ContainsKey(queue))
            {
                return FakeHttpResponse.Empty(204);
            }
            _queues[queue] = [];
            return FakeHttpResponse.Empty(201, new KeyValuePair<string, string>("Location", $"/v1/queues/{queue}"));
        }
        // v1 requires Client-ID on every message and claim request.
        if (!Guid.TryParse(r.Header("Client-ID"), out _))
        {
            return Error(400, "The header Client-ID was missing or is not a UUID");
        }
        if (!_queues.TryGetValue(queue, out var messages))
        {
            return Error(404, "Queue does not exist");
        }
        messages.RemoveAll(m => m.Expires <= Now);
        return (rest[1], rest.Length, r.Method) switch
        {
            ("messages", 2, "POST") => PostMessages(r, queue, messages),
            ("messages", 3, "DELETE") => DeleteMessage(r, messages, rest[2]),
            ("claims", 2, "POST") => Claim(r, queue, messages),
            ("claims", 3, "PATCH") => UpdateClaim(r, messages, rest[2]),
            ("claims", 3, "DELETE") => ReleaseClaim(messages, rest[2]),
            _ => FakeHttpResponse.Empty(405),
        };
    }

    private static JsonNode? ParseJson(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool TryGetSeconds(JsonNode? node, string name, int min, int max, out int value)
    {
        value = 0;
        return node?[name] is JsonValue v && v.TryGetValue(out value) && value >= min && value <= max;
    }

    private FakeHttpResponse PostMessages(FakeHttpRequest r, string queue, List<QueueMessage> messages)
    {
        if (r.Body.Length > 256 * 1024)
        {
            return Error(400, "Message collection size is too large. Max size 262144");
        }
        if (ParseJson(r.Body) is not JsonArray array || array.Count is 0 or > 10)
        {
            return Error(400, "Messages must be a non-empty list of at most 10 messages");
        }
        var hrefs = new List<string>();
        var created = new List<QueueMessage>();
        foreach (var item in array)
        {
            if (!TryGetSeconds(item, "ttl", 60, 1209600, out int ttl) || item is not JsonObject o || !o.ContainsKey("body"))
            {
                return Error(400, "Each message needs a ttl between 60 and 1209600 seconds and a body");
            }
            var id = Interlocked.Increment(ref _nextId).ToString("x24", CultureInfo.InvariantCulture);
            created.Add(new QueueMessage { Id = id, Body = o["body"]?.DeepClone(), Created = Now, Expires = Now + TimeSpan.FromSeconds(ttl) });
            hrefs.Add($"/v1/queues/{queue}/messages/{id}");
        }
        messages.AddRange(created);
        var body = new JsonObject { ["partial"] = false, ["resources"] = new JsonArray([.. hrefs.Select(h => (JsonNode)h)]) };
        return FakeHttpResponse.Json(201, body.ToJsonString(), new KeyValuePair<string, string>("Location", $"/v1/queues/{queue}/messages?ids={string.Join(',', created.Select(m => m.Id))}"));
    }

    private FakeHttpResponse Claim(FakeHttpRequest r, string queue, List<QueueMessage> messages)
    {
        int limit = 10;
        if (r.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 20))
        {
            return Error(400, "Limit must be at least 1 and may not be greater than 20");
        }
        var body = ParseJson(r.Body);
        if (!TryGetSeconds(body, "ttl", 60, 43200, out int ttl) || !TryGetSeconds(body, "grace", 60, 43200, out int grace))
        {
            return Error(400, "The TTL and grace for a claim must be between 60 and 43200 seconds");
        }
        var now = Now;
        var free = messages.Where(m => !m.IsClaimed(now)).Take(limit).ToList();
        if (free.Count == 0)
        {
            return FakeHttpResponse.Empty(204);
        }
        var claimId = Interlocked.Increment(ref _nextId).ToString("x24", CultureInfo.InvariantCulture);
        var claimExpires = now + TimeSpan.FromSeconds(ttl);
        _claims[claimId] = (queue, claimExpires);
        var result = new JsonArray();
        foreach (var m in free)
        {
            m.ClaimId = claimId;
            m.ClaimExpires = claimExpires;
            // A claimed message lives at least as long as the claim plus the grace period.
            var lifetime = claimExpires + TimeSpan.FromSeconds(grace);
            if (m.Expires < lifetime)
            {
                m.Expires = lifetime;
            }
            result.Add(new JsonObject
            {
                ["body"] = m.Body?.DeepClone(),
                ["age"] = (int)(now - m.Created).TotalSeconds,
                ["href"] = $"/v1/queues/{queue}/messages/{m.Id}?claim_id={claimId}",
                ["ttl"] = (int)(m.Expires - m.Created).TotalSeconds,
            });
        }
        return FakeHttpResponse.Json(201, result.ToJsonString(), new KeyValuePair<string, string>("Location", $"/v1/queues/{queue}/claims/{claimId}"));
    }

    private FakeHttpResponse UpdateClaim(FakeHttpRequest r, List<QueueMessage> messages, string claimId)
    {
        var body = ParseJson(r.Body);
        if (!TryGetSeconds(body, "ttl", 60, 43200, out int ttl))
        {
            return Error(400, "The TTL for a claim must be between 60 and 43200 seconds");
        }
        int grace = 60;
        if (body?["grace"] is not null && !TryGetSeconds(body, "grace", 60, 43200, out grace))
        {
            return Error(400, "The grace for a claim must be between 60 and 43200 seconds");
        }
        var now = Now;
        if (!_claims.TryGetValue(claimId, out var claim) || now >= claim.Expires)
        {
            return Error(404, "Claim does not exist or has expired");
        }
        var expires = now + TimeSpan.FromSeconds(ttl);
        _claims[claimId] = claim with { Expires = expires };
        foreach (var m in messages.Where(m => m.ClaimId == claimId))
        {
            m.ClaimExpires = expires;
            var lifetime = expires + TimeSpan.FromSeconds(grace);
            if (m.Expires < lifetime)
            {
                m.Expires = lifetime;
            }
        }
        return FakeHttpResponse.Empty(204);
    }

    private FakeHttpResponse ReleaseClaim(List<QueueMessage> messages, string claimId)
    {
        _claims.Remove(claimId);
        foreach (var m in messages.Where(m => m.ClaimId == claimId))
        {
            m.ClaimId = null;
        }
        return FakeHttpResponse.Empty(204);
    }

    private FakeHttpResponse DeleteMessage(FakeHttpRequest r, List<QueueMessage> messages, string id)
    {
        var m = messages.Find(x => x.Id == id);
        if (m is null)
        {
            return FakeHttpResponse.Empty(204);
        }
        r.Query.TryGetValue("claim_id", out var claimId);
        if (m.IsClaimed(Now) ? claimId != m.ClaimId : claimId is not null)
        {
            return Error(403, "The message is claimed by another client, or the claim given has expired");
        }
        messages.Remove(m);
        return FakeHttpResponse.Empty(204);
    }

    public ValueTask DisposeAsync() => _http.DisposeAsync();
}
