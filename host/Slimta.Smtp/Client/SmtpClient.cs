using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

/// <summary>
/// An async SMTP (RFC 5321) or LMTP (RFC 2033) client session over a stream. One instance is one
/// connection and must not be used by two callers at once. Every read and write runs under the
/// timeout of its stage (<see cref="SmtpClientOptions"/>), measured on the configured
/// <see cref="TimeProvider"/>. After any I/O error, timeout or protocol error the session is
/// <see cref="IsBroken"/> and must be disposed.
/// </summary>
public sealed partial class SmtpClient : IAsyncDisposable
{
    private readonly SmtpClientOptions _options;
    private readonly ArrayBufferWriter<byte> _commands = new(256);
    private Stream _stream;
    private SmtpReplyReader _reader;
    private bool _disposed;

    /// <summary>Wraps a connected stream (the greeting has not been read yet).</summary>
    public SmtpClient(Stream stream, SmtpClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        _stream = stream;
        _options = options;
        _reader = new SmtpReplyReader(stream, options.MaxReplyLineLength, options.MaxReplyLines);
    }

    /// <summary>The settings of this session.</summary>
    public SmtpClientOptions Options => _options;

    /// <summary>The extensions from the last successful EHLO/LHLO (none after HELO).</summary>
    public SmtpExtensions Extensions { get; private set; } = SmtpExtensions.None;

    /// <summary>True once STARTTLS succeeded.</summary>
    public bool IsEncrypted { get; private set; }

    /// <summary>True after an I/O error, a timeout or a protocol error: the session cannot be used any more.</summary>
    public bool IsBroken { get; private set; }

    /// <summary>The server's address when the session was opened with <see cref="ConnectAsync"/>.</summary>
    public EndPoint? RemoteEndPoint { get; private init; }

    /// <summary>Opens a TCP connection under <see cref="SmtpClientOptions.ConnectTimeout"/>.</summary>
    /// <exception cref="SmtpTimeoutException">The connection was not established in time.</exception>
    /// <exception cref="SocketException">The connection was refused or the host is unreachable.</exception>
    public static async Task<SmtpClient> ConnectAsync(string host, int port, SmtpClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        var socket = IPAddress.TryParse(host, out var address)
            ? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;
        using var timeout = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            if (address is not null)
            {
                await socket.ConnectAsync(address, port, linked.Token).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SmtpTimeoutException(SmtpStage.Connect, options.ConnectTimeout);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new SmtpClient(new NetworkStream(socket, ownsSocket: true), options) { RemoteEndPoint = socket.RemoteEndPoint };
    }

    /// <summary>Reads the server's greeting (RFC 5321 §4.3.1: 220, or 554/421 when it will not serve).</summary>
    public async Task<Reply> ReadGreetingAsync(CancellationToken cancellationToken)
    {
        using var operation = BeginOperation(cancellationToken);
        return await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Says EHLO (LHLO for LMTP) and records the extensions. An SMTP server that answers 500 or
    /// 502 gets HELO instead (RFC 5321 §3.2); the session then has no extensions.
    /// </summary>
    public async Task<Reply> EhloAsync(CancellationToken cancellationToken)
    {
        Extensions = SmtpExtensions.None;
        var verb = _options.Lmtp ? "LHLO" : "EHLO";
        var reply = await SendCommandAsync($"{verb} {_options.EhloName}", cancellationToken).ConfigureAwait(false);
        if (reply.Code == 250)
        {
            Extensions = SmtpExtensions.Parse(reply.Text);
            return reply;
        }
        if (!_options.Lmtp && reply.Code is 500 or 502)
        {
            return await SendCommandAsync($"HELO {_options.EhloName}", cancellationToken).ConfigureAwait(false);
        }
        return reply;
    }

    /// <summary>
    /// Sends STARTTLS (RFC 3207); on 220 performs the TLS handshake under the command timeout and
    /// says EHLO again (§4.2: everything learned before TLS is discarded). Returns the STARTTLS
    /// reply when it is not 220, else the new EHLO reply.
    /// </summary>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The handshake failed (the session is broken).</exception>
    public async Task<Reply> StartTlsAsync(SslClientAuthenticationOptions tlsOptions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tlsOptions);
        var reply = await SendCommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false);
        if (reply.Code != 220)
        {
            return reply;
        }
        if (_reader.HasBufferedData())
        {
            IsBroken = true;
            throw new SmtpProtocolException("the server sent data after its 220 reply to STARTTLS, before the TLS handshake");
        }
        _reader.Complete();
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        _stream = ssl;
        Extensions = SmtpExtensions.None;
        using (BeginOperation(cancellationToken))
        {
            var timer = FreshTimer(cancellationToken);
            try
            {
                timer.CancelAfter(_options.CommandTimeout);
                await ssl.AuthenticateAsClientAsync(tlsOptions, timer.Token).ConfigureAwait(false);
                Disarm(timer);
            }
            catch (Exception e)
            {
                throw Failure(e, SmtpStage.Command, _options.CommandTimeout, timer, cancellationToken);
            }
        }
        _reader = new SmtpReplyReader(ssl, _options.MaxReplyLineLength, _options.MaxReplyLines);
        IsEncrypted = true;
        return await EhloAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Authenticates with AUTH PLAIN (RFC 4616, initial response per RFC 4954) when offered,
    /// else AUTH LOGIN. Returns the final reply (235 on success); a made-up 504 5.5.4 when the
    /// server offers neither mechanism. Credentials never appear in exceptions.
    /// </summary>
    public async Task<Reply> AuthenticateAsync(string username, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        try
        {
            return await SendCredentialsAsync(username, password, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The encoded credentials must not linger in the session's command buffer (Clear
            // zeroes only the last command's bytes; an earlier, longer one could remain).
            _commands.ResetWrittenCount();
            _commands.GetSpan().Clear();
        }
    }

    private async Task<Reply> SendCredentialsAsync(string username, string password, CancellationToken cancellationToken)
    {
        var mechanisms = Extensions.AuthMechanisms;
        if (mechanisms.Contains("PLAIN"))
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0" + username + "\0" + password));
            return await SendCommandAsync("AUTH PLAIN " + token, cancellationToken).ConfigureAwait(false);
        }
        if (mechanisms.Contains("LOGIN"))
        {
            var reply = await SendCommandAsync("AUTH LOGIN", cancellationToken).ConfigureAwait(false);
            if (reply.Code != 334)
            {
                return reply;
            }
            reply = await SendCommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(username)), cancellationToken).ConfigureAwait(false);
            if (reply.Code != 334)
            {
                return reply;
            }
            return await SendCommandAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(password)), cancellationToken).ConfigureAwait(false);
        }
        return new Reply(504, "5.5.4", "the server offers no supported AUTH mechanism (PLAIN, LOGIN)");
    }

    /// <summary>
    /// Marks the session broken, so that nobody reuses it: for instance when commands were
    /// written whose replies will not be read (the server may be waiting for message data).
    /// </summary>
    public void MarkBroken() => IsBroken = true;

    /// <summary>Sends RSET (RFC 5321 §4.1.1.5).</summary>
    public Task<Reply> RsetAsync(CancellationToken cancellationToken) => SendCommandAsync("RSET", cancellationToken);

    /// <summary>Sends NOOP (RFC 5321 §4.1.1.9).</summary>
    public Task<Reply> NoopAsync(CancellationToken cancellationToken) => SendCommandAsync("NOOP", cancellationToken);

    /// <summary>Sends QUIT (RFC 5321 §4.1.1.10) and reads the 221 reply.</summary>
    public Task<Reply> QuitAsync(CancellationToken cancellationToken) => SendCommandAsync("QUIT", cancellationToken);

    /// <summary>Sends one command line (without CRLF) and reads its reply under the command timeout.</summary>
    /// <exception cref="ArgumentException">The command contains CR or LF (command injection).</exception>
    public async Task<Reply> SendCommandAsync(string command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("An SMTP command must not contain CR or LF.", nameof(command));
        }
        using var operation = BeginOperation(cancellationToken);
        return await CommandAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection (without QUIT; call <see cref="QuitAsync"/> first for a polite close).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        IsBroken = true;
        _timeout?.Dispose();
        _reader.Complete();
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Writes one command line and reads its reply, inside an operation.</summary>
    private async ValueTask<Reply> CommandAsync(string command, CancellationToken cancellationToken)
    {
        _commands.ResetWrittenCount();
        AppendUtf8(command);
        AppendAscii("\r\n"u8);
        await WriteAsync(_commands.WrittenMemory, SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
    }
}
