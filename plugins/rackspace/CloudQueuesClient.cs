using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The Cloud Queues (OpenStack Zaqar/Marconi API v1, as Rackspace documents it) calls of the shared
/// storage, on the rax:queues publicURL of the catalog. Every request carries <c>Client-ID</c> (one
/// GUID per storage instance, as v1 requires) and <c>X-Project-Id</c> (the tenant). Queue PUT (201
/// created / 204 existed); message POST (201 with <c>resources</c> hrefs); claim POST
/// <c>?limit=1</c> with <c>{ttl, grace}</c> (201 with the messages, 204 when none is free); claim
/// PATCH (204; 404 when it expired); claim DELETE (204, releases the messages); message DELETE by
/// its href with <c>?claim_id=</c> (204; 403 when the claim is no longer valid).
/// </summary>
internal sealed class CloudQueuesClient
{
    private readonly RackspaceApi _api;
    private readonly string _queue;
    private readonly string _clientId = Guid.NewGuid().ToString();
    private readonly SemaphoreSlim _ensureGate = new(1, 1);
    private volatile bool _ensured;

    public CloudQueuesClient(RackspaceApi api, string queue)
    {
        _api = api;
        _queue = queue;
    }

    /// <summary>This process's Client-ID.</summary>
    public string ClientId => _clientId;

    private static Uri Base(RackspaceAccess access) => access.QueuesUrl ?? throw new InvalidOperationException("no Cloud Queues endpoint");

    private Uri QueueUrl(RackspaceAccess access, string suffix = "") => new(Base(access), "queues/" + Uri.EscapeDataString(_queue) + suffix);

    /// <summary>A href from the service (an absolute path such as <c>/v1/queues/q/messages/id?claim_id=c</c>) on the endpoint's host.</summary>
    private static Uri Resolve(RackspaceAccess access, string href) => new(Base(access), href);

    private HttpRequestMessage Request(HttpMethod method, Uri url, byte[]? json = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("Client-ID", _clientId);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (json is not null)
        {
            request.Content = RackspaceIdentity.Json(json);
        }
        return request;
    }

    private HttpRequestMessage Request(RackspaceAccess access, HttpMethod method, Uri url, byte[]? json = null)
    {
        var request = Request(method, url, json);
        if (access.ProjectId is { } project)
        {
            request.Headers.TryAddWithoutValidation("X-Project-Id", project);
        }
        return request;
    }

    /// <summary>Creates the queue unless this instance already saw it (PUT is idempotent).</summary>
    public async Task EnsureQueueAsync(CancellationToken cancellationToken)
    {
        if (_ensured)
        {
            return;
        }
        await _ensureGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ensured)
            {
                return;
            }
            var r = await _api.SendAsync(a => Request(a, HttpMethod.Put, QueueUrl(a)), "cloud queues PUT queue", cancellationToken).ConfigureAwait(false);
            if (r.Status is not (HttpStatusCode.Created or HttpStatusCode.NoContent))
            {
                throw new RackspaceException($"cloud queues PUT queue '{_queue}'", r.Status);
            }
            _ensured = true;
        }
        finally
        {
            _ensureGate.Release();
        }
    }

    /// <summary>Posts the notice <c>{timestamp, storage_id}</c> for an object; returns its href.</summary>
    public async Task<string> PostNoticeAsync(string storageId, DateTimeOffset timestamp, TimeSpan ttl, CancellationToken cancellationToken)
    {
        await EnsureQueueAsync(cancellationToken).ConfigureAwait(false);
        byte[] body = Write(w =>
        {
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteNumber("ttl", (long)ttl.TotalSeconds);
            w.WriteStartObject("body");
            w.WriteNumber("timestamp", timestamp.ToUnixTimeMilliseconds() / 1000m);
            w.WriteString("storage_id", storageId);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
        });
        var r = await _api.SendAsync(a => Request(a, HttpMethod.Post, QueueUrl(a, "/messages"), body), "cloud queues POST messages", cancellationToken).ConfigureAwait(false);
        if (r.Status == HttpStatusCode.NotFound)
        {
            _ensured = false; // deleted under us
        }
        if (r.Status != HttpStatusCode.Created)
        {
            throw new RackspaceException($"cloud queues POST messages to '{_queue}'", r.Status);
        }
        using var doc = JsonDocument.Parse(r.Body);
        var resources = doc.RootElement.GetProperty("resources");
        return resources.GetArrayLength() == 1 && resources[0].GetString() is { } href
            ? href
            : throw new RackspaceException($"cloud queues POST messages to '{_queue}': expected one resource href");
    }

    /// <summary>Claims one free message for <paramref name="ttl"/>; null when none is free (204).</summary>
    public async Task<ClaimedNotice?> ClaimAsync(TimeSpan ttl, TimeSpan grace, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureQueueAsync(cancellationToken).ConfigureAwait(false);
        byte[] body = ClaimBody(ttl, grace);
        var r = await _api.SendAsync(a => Request(a, HttpMethod.Post, QueueUrl(a, "/claims?limit=1"), body), "cloud queues POST claims", cancellationToken).ConfigureAwait(false);
        if (r.Status == HttpStatusCode.NoContent)
        {
            return null;
        }
        if (r.Status == HttpStatusCode.NotFound)
        {
            _ensured = false;
        }
        if (r.Status is not (HttpStatusCode.Created or HttpStatusCode.OK))
        {
            throw new RackspaceException($"cloud queues POST claims on '{_queue}'", r.Status);
        }
        using var doc = JsonDocument.Parse(r.Body);
        var messages = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement : doc.RootElement.GetProperty("messages");
        if (messages.GetArrayLength() == 0)
        {
            return null;
        }
        var message = messages[0];
        var href = message.GetProperty("href").GetString() ?? throw new RackspaceException("cloud queues claim: message without href");
        var claimHref = r.Header("Location") ?? ClaimHrefFrom(href);
        string? storageId = null;
        DateTimeOffset? timestamp = null;
        if (message.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.Object)
        {
            if (b.TryGetProperty("storage_id", out var s) && s.ValueKind == JsonValueKind.String)
            {
                storageId = s.GetString();
            }
            if (b.TryGetProperty("timestamp", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetDecimal(out var seconds))
            {
                timestamp = DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000m));
            }
        }
        DateTimeOffset? expires = null;
        TimeSpan? age = null;
        if (message.TryGetProperty("age", out var ma) && ma.TryGetInt64(out var ageSeconds))
        {
            age = TimeSpan.FromSeconds(ageSeconds);
            if (message.TryGetProperty("ttl", out var mt) && mt.TryGetInt64(out var ttlSeconds))
            {
                expires = now + TimeSpan.FromSeconds(ttlSeconds - ageSeconds);
            }
        }
        return new ClaimedNotice(claimHref, href, storageId, timestamp, expires, age);
    }

    /// <summary>Sets a claim's ttl from now (renew, or park until a retry is due). False when the claim expired (404).</summary>
    public async Task<bool> UpdateClaimAsync(string claimHref, TimeSpan ttl, TimeSpan grace, CancellationToken cancellationToken)
    {
        byte[] body = ClaimBody(ttl, grace);
        var r = await _api.SendAsync(a => Request(a, HttpMethod.Patch, Resolve(a, claimHref), body), "cloud queues PATCH claim", cancellationToken).ConfigureAwait(false);
        return r.Status switch
        {
            HttpStatusCode.NoContent or HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw new RackspaceException("cloud queues PATCH claim", r.Status),
        };
    }

    /// <summary>Releases a claim: its messages are free for every worker at once.</summary>
    public async Task ReleaseClaimAsync(string claimHref, CancellationToken cancellationToken)
    {
        var r = await _api.SendAsync(a => Request(a, HttpMethod.Delete, Resolve(a, claimHref)), "cloud queues DELETE claim", cancellationToken).ConfigureAwait(false);
        if (r.Status is not (HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.NotFound))
        {
            throw new RackspaceException("cloud queues DELETE claim", r.Status);
        }
    }

    /// <summary>Deletes a claimed message by its href (with claim_id). False when the claim no longer holds it (403).</summary>
    public async Task<bool> DeleteMessageAsync(string messageHref, CancellationToken cancellationToken)
    {
        var r = await _api.SendAsync(a => Request(a, HttpMethod.Delete, Resolve(a, messageHref)), "cloud queues DELETE message", cancellationToken).ConfigureAwait(false);
        return r.Status switch
        {
            HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.NotFound => true,
            HttpStatusCode.Forbidden => false,
            _ => throw new RackspaceException("cloud queues DELETE message", r.Status),
        };
    }

    /// <summary>The message id in a message href (<c>…/messages/ID</c>, with or without <c>?claim_id=</c>).</summary>
    public static string MessageIdOf(string messageHref)
    {
        var path = messageHref.Split('?', 2)[0];
        return path[(path.LastIndexOf('/') + 1)..];
    }

    /// <summary>The claim of a claimed message href (<c>…/messages/ID?claim_id=C</c> → <c>…/claims/C</c>) when the 201 had no Location.</summary>
    private string ClaimHrefFrom(string messageHref)
    {
        int q = messageHref.IndexOf("claim_id=", StringComparison.Ordinal);
        int m = messageHref.IndexOf("/messages/", StringComparison.Ordinal);
        if (q < 0 || m < 0)
        {
            throw new RackspaceException("cloud queues claim: no Location and no claim_id in the message href");
        }
        var claimId = messageHref[(q + "claim_id=".Length)..].Split('&')[0];
        return messageHref[..m] + "/claims/" + claimId;
    }

    private static byte[] ClaimBody(TimeSpan ttl, TimeSpan grace) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("ttl", Seconds(ttl));
        w.WriteNumber("grace", Seconds(grace));
        w.WriteEndObject();
    });

    /// <summary>Whole seconds within what Cloud Queues accepts for claims (60–43200).</summary>
    public static long Seconds(TimeSpan span) =>
        Math.Clamp((long)Math.Ceiling(span.TotalSeconds), RackspaceSettings.MinClaimSeconds, RackspaceSettings.MaxClaimSeconds);

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            write(w);
        }
        return buffer.ToArray();
    }
}
