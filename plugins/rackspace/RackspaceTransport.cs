using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// Sends one HTTP call with the queue's timeout and retries (no authentication; see
/// <see cref="RackspaceApi"/>). Every attempt has its own deadline on the <see cref="TimeProvider"/>;
/// transport errors, timeouts, 5xx and 429 are retried a few times with a short backoff, then the
/// call fails, which the engine turns into a deferral (the edge answers 451). The retries are short
/// on purpose: an SMTP client is waiting on the edge while they run.
/// </summary>
internal sealed class RackspaceTransport : IDisposable
{
    /// <summary>Retries after the first attempt.</summary>
    public const int MaxRetries = 2;

    private readonly HttpClient _client;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline<RackspaceResponse> _retry;

    public RackspaceTransport(HttpClient client, TimeSpan timeout, TimeProvider time, ILogger log, string name)
    {
        _client = client;
        _timeout = timeout;
        _time = time;
        _retry = new ResiliencePipelineBuilder<RackspaceResponse> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<RackspaceResponse>
            {
                ShouldHandle = new PredicateBuilder<RackspaceResponse>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutException>()
                    .HandleResult(r => r.IsServerError || r.Status == HttpStatusCode.TooManyRequests),
                MaxRetryAttempts = MaxRetries,
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = a =>
                {
                    var why = a.Outcome.Exception?.Message ?? $"status {(int)a.Outcome.Result!.Status}";
                    log.LogWarning("queue={Queue} rackspace call failed ({Why}); retry {Attempt}", name, why, a.AttemptNumber + 1);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>
    /// Sends the request <paramref name="build"/> makes (called again for every retry, because a
    /// request message cannot be sent twice) and reads the whole response.
    /// </summary>
    public async Task<RackspaceResponse> SendAsync(Func<HttpRequestMessage> build, string what, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(
            static async (state, ct) => await state.Self.SendOnceAsync(state.Build(), state.What, ct).ConfigureAwait(false),
            (Self: this, Build: build, What: what),
            cancellationToken).ConfigureAwait(false);

    private async ValueTask<RackspaceResponse> SendOnceAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        using var _ = request;
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var h in response.Headers.Concat(response.Content.Headers))
            {
                headers[h.Key] = string.Join(", ", h.Value);
            }
            return new RackspaceResponse(response.StatusCode, headers, body);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{what}: no complete answer within {_timeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>The HTTP client for the queue's <c>tls</c> and <c>timeout</c>.</summary>
    public static HttpClient CreateClient(RackspaceSettings settings, ComponentContext context, ComponentOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = settings.Timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            // A redirect would resend credentials or a message to a place the catalog did not name.
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var tls = settings.Tls;
        var tlsPath = options.PathOf("tls");
        if (tls.CertFile is { } certFile)
        {
            var certPath = context.ResolvePath(certFile);
            var keyPath = context.ResolvePath(tls.KeyFile ?? certFile);
            try
            {
                handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(certPath, keyPath)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                throw new ConfigException(ConfigNode.Combine(tlsPath, "certfile"), $"cannot read the client certificate '{certPath}' / key '{keyPath}': {e.Message}", options.Map.Location, e);
            }
        }
        if (!tls.Verify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (tls.CaFile is { } caFile)
        {
            var path = context.ResolvePath(caFile);
            var cas = new X509Certificate2Collection();
            try
            {
                cas.ImportFromPemFile(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ConfigException(ConfigNode.Combine(tlsPath, "ca_file"), $"cannot read CA certificates from '{path}': {e.Message}", options.Map.Location, e);
            }
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }
                // Only an untrusted chain may be rescued by the configured CAs; a name mismatch may not.
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(cas);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var leaf = new X509Certificate2(certificate);
                return chain.Build(leaf);
            };
        }
        return new HttpClient(handler, disposeHandler: true)
        {
            // Every attempt gets its own deadline on the TimeProvider instead (SendOnceAsync).
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    public void Dispose() => _client.Dispose();
}
