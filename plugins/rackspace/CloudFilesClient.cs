using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The Cloud Files (OpenStack Swift object storage API v1) calls of the storage, on the
/// object-store publicURL of the catalog: container PUT (201 created / 202 existed), object PUT
/// (201), GET and HEAD (200, 404 gone), POST metadata (202, 404 gone), DELETE (204, 404 gone) and
/// the JSON container listing with <c>limit</c>/<c>marker</c> paging.
/// </summary>
internal sealed class CloudFilesClient
{
    /// <summary>Names per listing page (Swift's maximum is 10000; 1000 keeps pages small).</summary>
    public const int PageSize = 1000;

    private readonly RackspaceApi _api;
    private readonly string _container;
    private readonly SemaphoreSlim _ensureGate = new(1, 1);
    private volatile bool _ensured;

    public CloudFilesClient(RackspaceApi api, string container)
    {
        _api = api;
        _container = container;
    }

    private Uri ContainerUrl(RackspaceAccess access) => new(access.FilesUrl, Uri.EscapeDataString(_container));

    private Uri ObjectUrl(RackspaceAccess access, string name) => new(access.FilesUrl, Uri.EscapeDataString(_container) + "/" + Uri.EscapeDataString(name));

    /// <summary>Creates the container unless this instance already saw it (PUT on a container is idempotent).</summary>
    public async Task EnsureContainerAsync(CancellationToken cancellationToken)
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
            var r = await _api.SendAsync(a => new HttpRequestMessage(HttpMethod.Put, ContainerUrl(a)) { Content = new ByteArrayContent([]) }, "cloud files PUT container", cancellationToken).ConfigureAwait(false);
            if (r.Status is not (HttpStatusCode.Created or HttpStatusCode.Accepted or HttpStatusCode.NoContent))
            {
                throw new RackspaceException($"cloud files PUT container '{_container}'", r.Status);
            }
            _ensured = true;
        }
        finally
        {
            _ensureGate.Release();
        }
    }

    /// <summary>Writes a new object with its metadata.</summary>
    public async Task PutAsync(string name, byte[] body, ObjectMetadata meta, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var r = await PutOnceAsync(name, body, meta, cancellationToken).ConfigureAwait(false);
        if (r.Status == HttpStatusCode.NotFound)
        {
            // The container was deleted under us: create it again, once.
            _ensured = false;
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            r = await PutOnceAsync(name, body, meta, cancellationToken).ConfigureAwait(false);
        }
        if (r.Status != HttpStatusCode.Created)
        {
            throw new RackspaceException($"cloud files PUT object {name}", r.Status);
        }
    }

    private Task<RackspaceResponse> PutOnceAsync(string name, byte[] body, ObjectMetadata meta, CancellationToken cancellationToken) =>
        _api.SendAsync(a =>
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            var request = new HttpRequestMessage(HttpMethod.Put, ObjectUrl(a, name)) { Content = content };
            AddMetadata(request, meta);
            return request;
        }, "cloud files PUT object", cancellationToken);

    /// <summary>The object's bytes and metadata, or null when it does not exist (404).</summary>
    public async Task<(byte[] Body, ObjectMetadata Meta)?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var r = await _api.SendAsync(a => new HttpRequestMessage(HttpMethod.Get, ObjectUrl(a, name)), "cloud files GET object", cancellationToken).ConfigureAwait(false);
        if (r.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (r.Status != HttpStatusCode.OK)
        {
            throw new RackspaceException($"cloud files GET object {name}", r.Status);
        }
        var meta = ObjectMetadata.FromHeaders(r.Header) ?? throw new InvalidDataException($"object {name} has no {ObjectMetadata.TimestampHeader}");
        return (r.Body, meta);
    }

    /// <summary>The object's metadata, or null when it does not exist (404).</summary>
    public async Task<ObjectMetadata?> HeadAsync(string name, CancellationToken cancellationToken)
    {
        var r = await _api.SendAsync(a => new HttpRequestMessage(HttpMethod.Head, ObjectUrl(a, name)), "cloud files HEAD object", cancellationToken).ConfigureAwait(false);
        if (r.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (r.Status is not (HttpStatusCode.OK or HttpStatusCode.NoContent))
        {
            throw new RackspaceException($"cloud files HEAD object {name}", r.Status);
        }
        return ObjectMetadata.FromHeaders(r.Header) ?? throw new InvalidDataException($"object {name} has no {ObjectMetadata.TimestampHeader}");
    }

    /// <summary>Replaces the object's metadata (all of it: a Swift POST drops X-Object-Meta-* headers it does not repeat). False when the object is gone.</summary>
    public async Task<bool> PostMetadataAsync(string name, ObjectMetadata meta, CancellationToken cancellationToken)
    {
        var r = await _api.SendAsync(a =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, ObjectUrl(a, name)) { Content = new ByteArrayContent([]) };
            AddMetadata(request, meta);
            return request;
        }, "cloud files POST object", cancellationToken).ConfigureAwait(false);
        return r.Status switch
        {
            HttpStatusCode.Accepted or HttpStatusCode.NoContent => true,
            HttpStatusCode.NotFound => false,
            _ => throw new RackspaceException($"cloud files POST object {name}", r.Status),
        };
    }

    /// <summary>Deletes the object; one that is already gone (404) is not an error.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var r = await _api.SendAsync(a => new HttpRequestMessage(HttpMethod.Delete, ObjectUrl(a, name)), "cloud files DELETE object", cancellationToken).ConfigureAwait(false);
        if (r.Status is not (HttpStatusCode.NoContent or HttpStatusCode.OK or HttpStatusCode.NotFound))
        {
            throw new RackspaceException($"cloud files DELETE object {name}", r.Status);
        }
    }

    /// <summary>One page of object names after <paramref name="marker"/>, in name order (empty at the end).</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string? marker, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var r = await _api.SendAsync(a =>
        {
            var query = $"?format=json&limit={PageSize}" + (marker is null ? string.Empty : "&marker=" + Uri.EscapeDataString(marker));
            return new HttpRequestMessage(HttpMethod.Get, new Uri(ContainerUrl(a).AbsoluteUri + query));
        }, "cloud files GET container", cancellationToken).ConfigureAwait(false);
        if (r.Status == HttpStatusCode.NoContent)
        {
            return [];
        }
        if (r.Status != HttpStatusCode.OK)
        {
            throw new RackspaceException($"cloud files GET container '{_container}'", r.Status);
        }
        using var doc = JsonDocument.Parse(r.Body);
        var names = new List<string>();
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            // Pseudo-directories ("subdir") only appear with a delimiter, which is never sent.
            if (item.TryGetProperty("name", out var n) && n.GetString() is { } name)
            {
                names.Add(name);
            }
        }
        return names;
    }

    private static void AddMetadata(HttpRequestMessage request, ObjectMetadata meta)
    {
        foreach (var (key, value) in meta.ToHeaders())
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }
    }
}
