using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Slimta.Host.Edge.Proxy;
using Slimta.Host.Edge.Tls;
using Slimta.Smtp.Server;

namespace Slimta.Host.Edge;

/// <summary>
/// Runs one accepted connection of the SMTP edge: the PROXY header when expected, the implicit TLS
/// handshake when configured, then the SMTP session with STARTTLS and AUTH as configured.
/// One instance serves every connection of an edge.
/// </summary>
internal sealed class SmtpEdgeConnection
{
    private readonly SmtpEdgeOptions _options;
    private readonly SmtpServerOptions _serverOptions;
    private readonly SmtpSecurityOptions _security;
    private readonly SslStreamCertificateContext? _certificate;
    private readonly ISmtpServerHandler _handler;
    private readonly EdgeChecks _checks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EdgeTelemetry _telemetry;

    public SmtpEdgeConnection(SmtpEdgeOptions options, SmtpServerOptions serverOptions, SmtpSecurityOptions security, SslStreamCertificateContext? certificate, ISmtpServerHandler handler, EdgeChecks checks, TimeProvider time, ILogger logger, EdgeTelemetry telemetry)
    {
        _telemetry = telemetry;
        _checks = checks;
        _options = options;
        _serverOptions = serverOptions;
        _security = security;
        _certificate = certificate;
        _handler = handler;
        _time = time;
        _logger = logger;
    }

    /// <summary>Serves <paramref name="client"/> until the session ends; the caller disposes the socket.</summary>
    public async Task RunAsync(Socket client, CancellationToken stopping, CancellationToken abort)
    {
        client.NoDelay = true;
        var network = new NetworkStream(client, ownsSocket: false);
        await using (network.ConfigureAwait(false))
        {
            EndPoint? remote = client.RemoteEndPoint;
            if (_options.ProxyProtocol)
            {
                var header = await ReadProxyHeaderAsync(network, remote, stopping, abort).ConfigureAwait(false);
                if (header is null)
                {
                    return;
                }
                remote = header.Source ?? remote;
            }
            // connection_opened / connection_closed (after a PROXY header: the real client).
            long started = _time.GetTimestamp();
            bool secure = _options.TlsImmediately;
            _telemetry.Opened(remote, secure);
            try
            {
                secure = await RunSessionAsync(client, network, remote, stopping, abort).ConfigureAwait(false);
            }
            finally
            {
                _telemetry.Closed(remote, secure, _time.GetElapsedTime(started));
            }
        }
    }

    /// <summary>TLS, DNSBL and the SMTP session; returns true when the session ended encrypted.</summary>
    private async Task<bool> RunSessionAsync(Socket client, NetworkStream network, EndPoint? remote, CancellationToken stopping, CancellationToken abort)
    {
        Stream stream = network;
        SslStream? implicitTls = null;
        if (_options.TlsImmediately)
        {
            // RFC 8314 §3: implicit TLS, the handshake comes before the greeting.
            implicitTls = await EdgeTlsTransport.HandshakeAsync(network, _certificate!, _serverOptions.CommandTimeout, _time, _logger, abort).ConfigureAwait(false);
            if (implicitTls is null)
            {
                _logger.LogInformation("TLS handshake with {Client} failed; closing", remote);
                return false;
            }
            stream = implicitTls;
        }
        // RFC 5782 / config.md: a DNSBL hit is refused instead of the greeting (554 5.7.1, close).
        // Checked after the PROXY header, so the listed address is the real client's.
        if (await _checks.CheckConnectionAsync(remote, stopping).ConfigureAwait(false) is { } refusal)
        {
            _telemetry.SessionRefused(remote, "dnsbl", refusal);
            await RefuseAsync(stream, refusal).ConfigureAwait(false);
            if (implicitTls is not null)
            {
                await implicitTls.DisposeAsync().ConfigureAwait(false);
            }
            return implicitTls is not null;
        }
        var tls = _certificate is not null && !_options.TlsImmediately
            ? new EdgeTlsTransport(network, _certificate, _serverOptions.CommandTimeout, _time, _logger)
            : null;
        bool secure = implicitTls is not null;
        try
        {
            // Zero-byte reads: an idle session holds no read buffer while it waits, which
            // keeps thousands of idle connections cheap.
            var (input, output) = EdgeTlsTransport.CreatePipes(stream);
            var info = new SmtpSessionInfo(remote, isSecure: implicitTls is not null);
            using (var session = new SmtpServerSession(new StreamDuplexPipe(input, output), info, _serverOptions, _handler, _time, _logger) { Tls = tls, Security = _security })
            {
                await session.RunAsync(stopping, abort).ConfigureAwait(false);
            }
            secure = info.IsSecure;
            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
            if (implicitTls is not null)
            {
                await implicitTls.DisposeAsync().ConfigureAwait(false);
            }
        }
        try
        {
            client.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the client.
        }
        return secure;
    }

    private async Task RefuseAsync(Stream stream, Slimta.Abstractions.Relaying.Reply reply)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>(64);
        Slimta.Smtp.Protocol.SmtpReplyWriter.Write(writer, reply);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        try
        {
            await stream.WriteAsync(writer.WrittenMemory, timeout.Token).ConfigureAwait(false);
            await stream.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            _logger.LogDebug(ex, "Could not send the refusal");
        }
    }

    private async Task<ProxyHeader?> ReadProxyHeaderAsync(Stream network, EndPoint? remote, CancellationToken stopping, CancellationToken abort)
    {
        // The header must arrive within the command timeout; a stop also ends the wait, since
        // no session (and no message) exists yet.
        using var deadline = new CancellationTokenSource(_serverOptions.CommandTimeout, _time);
        using var onAbort = abort.Register(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        using var onStop = stopping.Register(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        try
        {
            var header = await ProxyProtocolReader.ReadAsync(network, deadline.Token).ConfigureAwait(false);
            if (header is null)
            {
                _logger.LogWarning("Closing the connection from {Proxy}: invalid PROXY protocol header", remote);
            }
            return header;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or OperationCanceledException)
        {
            _logger.LogInformation("Closing the connection from {Proxy}: no complete PROXY protocol header", remote);
            return null;
        }
    }
}
