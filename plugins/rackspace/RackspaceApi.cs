using System.Net;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// Authorized calls: adds X-Auth-Token from <see cref="RackspaceIdentity"/> and, when the service
/// answers 401 (the token expired early or was revoked), authenticates exactly once more and
/// repeats the call with the new token. A second 401 is an error (the credentials lost the right).
/// </summary>
internal sealed class RackspaceApi
{
    private readonly RackspaceTransport _transport;

    public RackspaceApi(RackspaceTransport transport, RackspaceIdentity identity)
    {
        _transport = transport;
        Identity = identity;
    }

    public RackspaceIdentity Identity { get; }

    /// <summary>Sends the request <paramref name="build"/> makes for a token and its endpoints.</summary>
    public async Task<RackspaceResponse> SendAsync(Func<RackspaceAccess, HttpRequestMessage> build, string what, CancellationToken cancellationToken)
    {
        var access = await Identity.GetAsync(cancellationToken).ConfigureAwait(false);
        var response = await SendWithAsync(access, build, what, cancellationToken).ConfigureAwait(false);
        if (response.Status != HttpStatusCode.Unauthorized)
        {
            return response;
        }
        // Concurrent callers that saw the same 401 drop the token once; the others find the new
        // one in the cache, so one expiry costs one authentication.
        Identity.Invalidate(access);
        access = await Identity.GetAsync(cancellationToken).ConfigureAwait(false);
        response = await SendWithAsync(access, build, what, cancellationToken).ConfigureAwait(false);
        return response.Status == HttpStatusCode.Unauthorized
            ? throw new RackspaceException($"{what}: 401 Unauthorized even with a new token")
            : response;
    }

    private Task<RackspaceResponse> SendWithAsync(RackspaceAccess access, Func<RackspaceAccess, HttpRequestMessage> build, string what, CancellationToken cancellationToken) =>
        _transport.SendAsync(() =>
        {
            var request = build(access);
            request.Headers.TryAddWithoutValidation("X-Auth-Token", access.Token);
            return request;
        }, what, cancellationToken);
}
