using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Slimta.Smtp.Server;

namespace Slimta.Host.Edge.Tls;

/// <summary>
/// The server side of TLS on one edge connection: the STARTTLS upgrade (RFC 3207) and the implicit
/// TLS handshake of <c>tls_immediately</c>. Owns the SslStream and the pipes over it.
/// </summary>
internal sealed class EdgeTlsTransport : ISmtpTlsTransport, IAsyncDisposable
{
    private readonly Stream _inner;
    private readonly SslStreamCertificateContext _certificate;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private SslStream? _ssl;
    private PipeReader? _reader;
    private PipeWriter? _writer;

    public EdgeTlsTransport(Stream inner, SslStreamCertificateContext certificate, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        _inner = inner;
        _certificate = certificate;
        _timeout = timeout;
        _time = time;
        _logger = logger;
    }

    /// <summary>Handshakes as the server on <paramref name="inner"/> (left open); null when the handshake failed or timed out.</summary>
    public static async Task<SslStream?> HandshakeAsync(Stream inner, SslStreamCertificateContext certificate, TimeSpan timeout, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: true);
        using var deadline = new CancellationTokenSource(timeout, time);
        using var link = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate,
                ClientCertificateRequired = false,
                // The system's protocol defaults (TLS 1.2 and 1.3 on current Linux).
                EnabledSslProtocols = SslProtocols.None,
            }, deadline.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or InvalidOperationException)
        {
            logger.LogDebug(ex, "TLS handshake failed");
            await ssl.DisposeAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
    }

    /// <summary>Pipes over a secure stream, with zero-byte reads so idle sessions hold no buffer.</summary>
    public static (PipeReader Reader, PipeWriter Writer) CreatePipes(Stream stream) =>
        (PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true)),
         PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 1024, leaveOpen: true)));

    public async ValueTask<IDuplexPipe?> StartTlsAsync(CancellationToken cancellationToken)
    {
        if (_ssl is not null)
        {
            throw new InvalidOperationException("TLS is already active.");
        }
        _ssl = await HandshakeAsync(_inner, _certificate, _timeout, _time, _logger, cancellationToken).ConfigureAwait(false);
        if (_ssl is null)
        {
            return null;
        }
        (_reader, _writer) = CreatePipes(_ssl);
        return new StreamDuplexPipe(_reader, _writer);
    }

    public async ValueTask DisposeAsync()
    {
        if (_reader is not null)
        {
            await _reader.CompleteAsync().ConfigureAwait(false);
        }
        if (_writer is not null)
        {
            await _writer.CompleteAsync().ConfigureAwait(false);
        }
        if (_ssl is not null)
        {
            await _ssl.DisposeAsync().ConfigureAwait(false);
        }
    }
}
