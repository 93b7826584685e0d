using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Slimta.Abstractions.Relaying;
using Slimta.Plugins.Smtp.MtaSts;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// Opens a ready-to-use session to the relay's next hop: connect, greeting, EHLO (LHLO), STARTTLS
/// as configured, AUTH when credentials are set. Failures come back as replies, never exceptions
/// (apart from cancellation), so the relay can map them to outcomes.
/// </summary>
internal sealed class SmtpConnector
{
    private readonly SmtpRelaySettings _settings;
    private readonly SmtpDestination _destination;
    private readonly SmtpClientOptions _clientOptions;
    private readonly X509Certificate2Collection? _trustedCas;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _connectPipeline;

    public SmtpConnector(SmtpRelaySettings settings, SmtpDestination destination, SmtpClientOptions clientOptions, X509Certificate2Collection? trustedCas, ILogger logger)
    {
        _settings = settings;
        _destination = destination;
        _clientOptions = clientOptions;
        _trustedCas = trustedCas;
        _logger = logger;
        _connectPipeline = BuildConnectPipeline(settings, clientOptions.TimeProvider);
    }

    /// <summary><c>host:port</c> of the next hop.</summary>
    public string Remote => _destination.Remote;

    /// <summary>TLS is required by <c>tls.required</c> or by an MTA-STS policy in enforce mode (RFC 8461 §5).</summary>
    private bool RequireTls => _settings.Tls.Required || _destination.Sts == MtaStsMode.Enforce;

    public async Task<SessionResult> OpenAsync(CancellationToken cancellationToken)
    {
        var result = await OpenAsync(allowTls: true, cancellationToken).ConfigureAwait(false);
        return result.Retry ? (await OpenAsync(allowTls: false, cancellationToken).ConfigureAwait(false)).Session : result.Session;
    }

    private async Task<(SessionResult Session, bool Retry)> OpenAsync(bool allowTls, CancellationToken cancellationToken)
    {
        SmtpClient client;
        try
        {
            client = await _connectPipeline.ExecuteAsync(ConnectAsync, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            _logger.LogWarning("Connection to {Remote} failed: {Error}", Remote, e.SocketErrorCode);
            return (SessionResult.Fail(new Reply(451, "4.4.1", $"connection to {Remote} failed: {e.SocketErrorCode}")), false);
        }
        catch (SmtpTimeoutException e)
        {
            _logger.LogWarning("Connection to {Remote} timed out", Remote);
            return (SessionResult.Fail(new Reply(451, "4.4.1", $"connection to {Remote} failed: {e.Message}")), false);
        }
        catch (BrokenCircuitException)
        {
            // Recent connections all failed: fail fast instead of waiting for another timeout.
            return (SessionResult.Fail(new Reply(451, "4.4.1", $"connection to {Remote} not tried: recent connections failed (circuit open)")), false);
        }
        catch (AddressLookupException e)
        {
            _logger.LogWarning("No address for {Remote}: {Reply}", Remote, e.Reply);
            return (SessionResult.Fail(e.Reply), false);
        }

        bool keep = false;
        try
        {
            var greeting = await client.ReadGreetingAsync(cancellationToken).ConfigureAwait(false);
            if (greeting.Code != 220)
            {
                // RFC 5321 §3.1: 554 means no service here; 421 means try later. Both end the session.
                return (SessionResult.Fail(greeting), false);
            }
            var ehlo = await client.EhloAsync(cancellationToken).ConfigureAwait(false);
            if (!ehlo.IsSuccess)
            {
                return (SessionResult.Fail(ehlo), false);
            }

            if (allowTls && client.Extensions.StartTls)
            {
                try
                {
                    var tls = await client.StartTlsAsync(TlsOptions(), cancellationToken).ConfigureAwait(false);
                    if (!client.IsEncrypted)
                    {
                        if (RequireTls)
                        {
                            return (SessionResult.Fail(new Reply(451, "4.7.0", $"{Remote} refused STARTTLS: {tls}")), false);
                        }
                        // Opportunistic: after a refused STARTTLS the session is still plaintext
                        // and usable (RFC 3207 §4).
                        _logger.LogInformation("{Remote} refused STARTTLS ({Reply}); continuing without TLS", Remote, tls);
                    }
                    else if (!tls.IsSuccess)
                    {
                        // EHLO refused after the handshake.
                        return (SessionResult.Fail(tls), false);
                    }
                }
                catch (Exception e) when (e is AuthenticationException or IOException or SmtpTimeoutException)
                {
                    if (RequireTls)
                    {
                        _logger.LogWarning("TLS with {Remote} failed: {Error}", Remote, e.Message);
                        return (SessionResult.Fail(new Reply(451, "4.7.0", $"TLS with {Remote} failed: {e.Message}")), false);
                    }
                    // After a failed handshake the connection is in an unknown state: start again
                    // in plaintext (opportunistic TLS, RFC 7435 §3).
                    _logger.LogInformation("TLS with {Remote} failed ({Error}); reconnecting without TLS", Remote, e.Message);
                    return (default, true);
                }
            }
            else if (RequireTls)
            {
                var why = _settings.Tls.Required ? "tls.required is set" : "the domain's MTA-STS policy is enforced";
                return (SessionResult.Fail(new Reply(451, "4.7.0", $"{Remote} does not offer STARTTLS and {why}")), false);
            }
            else if (_destination.Sts == MtaStsMode.Testing)
            {
                _logger.LogWarning("MTA-STS (testing mode): {Remote} does not offer STARTTLS; delivering anyway", Remote);
            }

            if (_settings.Username is not null)
            {
                var failure = await AuthenticateAsync(client, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    return (SessionResult.Fail(failure), false);
                }
            }
            keep = true;
            return (SessionResult.Ok(client), false);
        }
        catch (Exception e) when (e is IOException or SmtpTimeoutException)
        {
            _logger.LogWarning("Session with {Remote} failed during setup: {Error}", Remote, e.Message);
            return (SessionResult.Fail(new Reply(451, "4.4.2", $"session with {Remote} failed: {e.Message}")), false);
        }
        finally
        {
            if (!keep)
            {
                await CloseAsync(client).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends QUIT when the session still works, then closes it; never throws.</summary>
    public static async Task CloseAsync(SmtpClient client)
    {
        try
        {
            if (!client.IsBroken)
            {
                await client.QuitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException or ObjectDisposedException)
        {
            // The server may already have closed; QUIT is a courtesy.
        }
        finally
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<Reply?> AuthenticateAsync(SmtpClient client, CancellationToken cancellationToken)
    {
        // Credentials travel in the clear without TLS (AUTH PLAIN/LOGIN are only base64): send
        // them unencrypted only to a loopback smart host.
        if (!client.IsEncrypted && !IsLoopback(_destination.Host))
        {
            return new Reply(451, "4.7.0", $"refusing to send credentials to {Remote} without TLS");
        }
        if (client.Extensions.AuthMechanisms.Count == 0)
        {
            return new Reply(451, "4.7.0", $"{Remote} does not offer AUTH but credentials are configured");
        }
        var reply = await client.AuthenticateAsync(_settings.Username!, _settings.Password!, cancellationToken).ConfigureAwait(false);
        // RFC 4954 §6 says 235; some servers (smtp-sink among them) say 250. Any 2xx is success.
        if (reply.IsSuccess)
        {
            return null;
        }
        // A refused login is a configuration problem on one side or the other, not a property of
        // the message: keep the mail queued (transient) rather than bounce it.
        _logger.LogWarning("AUTH at {Remote} failed: {Reply}", Remote, reply);
        return new Reply(451, "4.7.0", $"authentication at {Remote} failed: {reply}");
    }

    private async ValueTask<SmtpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_destination.ResolveAsync is null)
        {
            return await SmtpClient.ConnectAsync(_destination.Host, _destination.Port, _clientOptions, cancellationToken).ConfigureAwait(false);
        }
        var addresses = await _destination.ResolveAsync(cancellationToken).ConfigureAwait(false);
        Exception? last = null;
        // Every address of the host is tried in turn (RFC 5321 §5.1: "try each address").
        foreach (var address in addresses)
        {
            try
            {
                return await SmtpClient.ConnectAsync(address.ToString(), _destination.Port, _clientOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or SmtpTimeoutException)
            {
                _logger.LogInformation("Connection to {Address} port {Port} ({Remote}) failed: {Error}", address, _destination.Port, Remote, e.Message);
                last = e;
            }
        }
        if (last is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(last);
        }
        throw new AddressLookupException(new Reply(451, "4.4.3", $"{_destination.Host} has no address"));
    }

    /// <summary>
    /// Connection attempts only: a short retry for a refused or timed-out connect, and a breaker
    /// per destination. Replies (4xx/5xx) never pass through here, so a permanent failure is never retried.
    /// </summary>
    private static ResiliencePipeline BuildConnectPipeline(SmtpRelaySettings settings, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        var handle = new PredicateBuilder().Handle<SocketException>().Handle<SmtpTimeoutException>();
        if (settings.ConnectRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = settings.ConnectRetries,
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                ShouldHandle = handle,
            });
        }
        if (settings.CircuitBreaker.Failures > 0)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = settings.CircuitBreaker.Failures,
                SamplingDuration = settings.CircuitBreaker.Duration,
                BreakDuration = settings.CircuitBreaker.Duration,
                ShouldHandle = handle,
            });
        }
        return builder.Build();
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    private SslClientAuthenticationOptions TlsOptions()
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = _destination.Host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (_destination.Sts == MtaStsMode.Enforce)
        {
            // RFC 8461 §4.2: a certificate valid for the MX host name, chained to a trusted root
            // (the system's, or tls.ca_file), whatever tls.verify says.
            var cas = _trustedCas;
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => CertificateTrust.IsValid(cas, certificate, errors);
        }
        else if (_destination.Sts == MtaStsMode.Testing)
        {
            // Testing mode (§5): report what enforce would refuse, then go on as configured.
            var cas = _trustedCas;
            bool verify = _settings.Tls.Verify;
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                bool valid = CertificateTrust.IsValid(cas, certificate, errors);
                if (!valid)
                {
                    _logger.LogWarning("MTA-STS (testing mode, not enforced): the certificate of {Remote} is not valid for {Host} ({Errors})", Remote, _destination.Host, errors);
                }
                return valid || !verify;
            };
        }
        else if (!_settings.Tls.Verify)
        {
            // Opportunistic TLS (RFC 7435): encryption without authentication.
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (_trustedCas is not null)
        {
            var cas = _trustedCas;
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }
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
        return options;
    }
}
