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
public sealed class SmtpClient : IAsyncDisposable
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private readonly SmtpClientOptions _options;
    private Stream _stream;
    private SmtpReplyReader _reader;
    private CancellationTokenSource? _timeout;
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
    public Task<Reply> ReadGreetingAsync(CancellationToken cancellationToken) =>
        ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken);

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
        await WithTimeoutAsync(SmtpStage.Command, _options.CommandTimeout, async token =>
        {
            await ssl.AuthenticateAsClientAsync(tlsOptions, token).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
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
    /// Runs one mail transaction: MAIL (with SIZE= when advertised, BODY=8BITMIME for 8-bit
    /// messages, SMTPUTF8 when needed), every RCPT, DATA — as one pipelined group when the server
    /// offers PIPELINING (RFC 2920), else in lock-step — then the dot-stuffed message and the
    /// final reply (for LMTP, one per accepted recipient). Sends RSET when the transaction failed
    /// before the message was sent.
    /// </summary>
    /// <param name="sender">The reverse-path without brackets; empty for <c>&lt;&gt;</c>.</param>
    /// <param name="recipients">The forward-paths without brackets.</param>
    /// <param name="message">The message bytes, sent unchanged apart from dot-stuffing.</param>
    /// <param name="smtpUtf8">True when the message needs SMTPUTF8 even if the addresses are ASCII.</param>
    /// <param name="cancellationToken">Cancels the transaction (the session is then broken).</param>
    /// <returns>One deciding reply per recipient.</returns>
    /// <exception cref="IOException">The connection failed before the final reply.</exception>
    /// <exception cref="SmtpTimeoutException">A stage timed out before the final reply.</exception>
    public Task<SmtpTransactionResult> SendMessageAsync(string sender, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, bool smtpUtf8, CancellationToken cancellationToken) =>
        SendMessageAsync(sender, recipients, message, smtpUtf8, resetFirst: false, cancellationToken);

    /// <summary>
    /// As <see cref="SendMessageAsync(string, IReadOnlyList{string}, ReadOnlyMemory{byte}, bool, CancellationToken)"/>;
    /// with <paramref name="resetFirst"/> the transaction starts with RSET, which checks that a
    /// session reused from a pool is still alive. When the server offers PIPELINING the RSET goes
    /// in the same group as MAIL, RCPT and DATA (RFC 2920 §3.1 allows RSET anywhere in a group),
    /// so the check costs no round trip of its own; otherwise it is sent alone first.
    /// </summary>
    /// <exception cref="SmtpStaleSessionException">The RSET failed: nothing was delivered, send again on another session.</exception>
    public async Task<SmtpTransactionResult> SendMessageAsync(string sender, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, bool smtpUtf8, bool resetFirst, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipients);
        int count = recipients.Count;
        if (!IsValidPath(sender))
        {
            return Refused(count, new Reply(553, "5.1.7", "the sender address contains control characters"));
        }
        bool eightBit = message.Span.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
        if (eightBit && !Extensions.EightBitMime)
        {
            // RFC 6152 §3: 8-bit data goes only to a server that offers 8BITMIME. Either the
            // configured converter re-encodes the body as 7-bit, or the message is refused
            // permanently with RFC 3463 5.6.3 ("conversion required but not supported").
            var converted = _options.EightBitConverter?.Invoke(message);
            if (converted is not { } sevenBit || sevenBit.Span.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
            {
                return Refused(count, new Reply(554, "5.6.3", "the message contains 8-bit data and the server does not offer 8BITMIME"));
            }
            message = sevenBit;
            eightBit = false;
        }
        bool utf8Addresses = !IsAscii(sender) || recipients.Any(r => !IsAscii(r));
        if (utf8Addresses && !Extensions.SmtpUtf8)
        {
            // RFC 6531 §3.2: internationalized addresses need a server that offers SMTPUTF8.
            return Refused(count, new Reply(553, "5.6.7", "the addresses need SMTPUTF8 and the server does not offer it"));
        }

        var mail = new StringBuilder("MAIL FROM:<").Append(sender).Append('>');
        if (Extensions.HasSize)
        {
            long size = message.Length + (message.Span.EndsWith("\r\n"u8) || message.Length == 0 ? 0 : 2);
            mail.Append(" SIZE=").Append(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (eightBit)
        {
            mail.Append(" BODY=8BITMIME");
        }
        if ((utf8Addresses || smtpUtf8) && Extensions.SmtpUtf8)
        {
            mail.Append(" SMTPUTF8");
        }

        var decided = new Reply?[count];
        var rcptReplies = new Reply?[count];
        var toSend = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            if (IsValidPath(recipients[i]))
            {
                toSend.Add(i);
            }
            else
            {
                decided[i] = new Reply(553, "5.1.3", "the recipient address contains control characters");
            }
        }
        if (toSend.Count == 0)
        {
            return new SmtpTransactionResult(null, rcptReplies, null, decided.Select(r => r!).ToList());
        }

        Reply mailReply;
        Reply? dataReply = null;
        if (Extensions.Pipelining)
        {
            // RFC 2920 §3.1: RSET, MAIL, every RCPT and DATA may go in one group; the replies come back in order.
            var group = new StringBuilder();
            if (resetFirst)
            {
                group.Append("RSET\r\n");
            }
            group.Append(mail).Append("\r\n");
            foreach (int i in toSend)
            {
                group.Append("RCPT TO:<").Append(recipients[i]).Append(">\r\n");
            }
            group.Append("DATA\r\n");
            var bytes = Encoding.UTF8.GetBytes(group.ToString());
            if (resetFirst)
            {
                await CheckResetAsync(async () =>
                {
                    await WriteAsync(bytes, SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
                    return await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            else
            {
                await WriteAsync(bytes, SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            }
            mailReply = await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            foreach (int i in toSend)
            {
                rcptReplies[i] = await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            }
            dataReply = await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (resetFirst)
            {
                await CheckResetAsync(() => RsetAsync(cancellationToken)).ConfigureAwait(false);
            }
            mailReply = await SendCommandAsync(mail.ToString(), cancellationToken).ConfigureAwait(false);
            if (mailReply.IsSuccess)
            {
                foreach (int i in toSend)
                {
                    rcptReplies[i] = await SendCommandAsync($"RCPT TO:<{recipients[i]}>", cancellationToken).ConfigureAwait(false);
                }
                if (toSend.Any(i => rcptReplies[i]!.IsSuccess))
                {
                    dataReply = await SendCommandAsync("DATA", cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var accepted = new List<int>(toSend.Count);
        foreach (int i in toSend)
        {
            if (!mailReply.IsSuccess)
            {
                decided[i] = AsFailure(mailReply);
            }
            else if (!rcptReplies[i]!.IsSuccess)
            {
                decided[i] = AsFailure(rcptReplies[i]!);
            }
            else
            {
                accepted.Add(i);
            }
        }

        if (dataReply is { Code: 354 } && accepted.Count > 0)
        {
            await SendDataAsync(message, cancellationToken).ConfigureAwait(false);
            await ReadFinalRepliesAsync(accepted, decided, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (dataReply is { Code: 354 })
            {
                // A pipelining server said "go ahead" although no recipient was accepted: end
                // the data at once with an empty message (RFC 2920 §3.1) and ignore its reply.
                await WriteAsync(".\r\n"u8.ToArray(), SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
                await ReadReplyAsync(SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
            }
            foreach (int i in accepted)
            {
                decided[i] = AsFailure(dataReply ?? new Reply(451, "4.5.0", "DATA was not sent"));
            }
            // RFC 5321 §4.1.1.5: clear the failed transaction so the session can be reused.
            await TryResetAsync(cancellationToken).ConfigureAwait(false);
        }
        return new SmtpTransactionResult(mailReply, rcptReplies, dataReply, decided.Select(r => r!).ToList());
    }

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
        var bytes = new byte[Encoding.UTF8.GetByteCount(command) + 2];
        int n = Encoding.UTF8.GetBytes(command, bytes);
        Crlf.CopyTo(bytes, n);
        await WriteAsync(bytes, SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
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

    private async Task ReadFinalRepliesAsync(List<int> accepted, Reply?[] decided, CancellationToken cancellationToken)
    {
        if (!_options.Lmtp)
        {
            var final = await ReadReplyAsync(SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
            foreach (int i in accepted)
            {
                decided[i] = final.IsSuccess ? final : AsFailure(final);
            }
            return;
        }
        // RFC 2033 §4.2: after the message, one reply per accepted recipient, in RCPT order.
        for (int k = 0; k < accepted.Count; k++)
        {
            Reply reply;
            try
            {
                reply = await ReadReplyAsync(SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (k > 0 && e is IOException or TimeoutException)
            {
                // Some recipients already have their final answer; only the rest are unknown.
                var lost = new Reply(451, "4.4.2", "connection lost before the LMTP reply for this recipient: " + e.Message);
                for (int j = k; j < accepted.Count; j++)
                {
                    decided[accepted[j]] = lost;
                }
                return;
            }
            decided[accepted[k]] = reply.IsSuccess ? reply : AsFailure(reply);
        }
    }

    private async Task SendDataAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var stuffer = new DotStuffer(message);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (!stuffer.IsCompleted)
            {
                int n = stuffer.Fill(buffer);
                await WriteAsync(buffer.AsMemory(0, n), SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Runs the RSET of a reused session; any failure makes it stale (and broken).</summary>
    private async Task CheckResetAsync(Func<Task<Reply>> reset)
    {
        Reply reply;
        try
        {
            reply = await reset().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            IsBroken = true;
            throw new SmtpStaleSessionException(e);
        }
        if (!reply.IsSuccess)
        {
            // Whatever the server makes of the commands behind the RSET, the session is dropped
            // before any message data is sent.
            IsBroken = true;
            throw new SmtpStaleSessionException(reply);
        }
    }

    private async Task TryResetAsync(CancellationToken cancellationToken)
    {
        try
        {
            var reply = await RsetAsync(cancellationToken).ConfigureAwait(false);
            if (!reply.IsSuccess)
            {
                IsBroken = true;
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            // The transaction's replies are known already; only the session is lost.
            IsBroken = true;
        }
    }

    private Task<Reply> ReadReplyAsync(SmtpStage stage, TimeSpan timeout, CancellationToken cancellationToken) =>
        WithTimeoutAsync(stage, timeout, token => _reader.ReadAsync(token), cancellationToken);

    private Task<bool> WriteAsync(ReadOnlyMemory<byte> bytes, SmtpStage stage, TimeSpan timeout, CancellationToken cancellationToken) =>
        WithTimeoutAsync(stage, timeout, async token =>
        {
            await _stream.WriteAsync(bytes, token).ConfigureAwait(false);
            await _stream.FlushAsync(token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> WithTimeoutAsync<T>(SmtpStage stage, TimeSpan timeout, Func<CancellationToken, ValueTask<T>> operation, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsBroken)
        {
            throw new SmtpProtocolException("the SMTP session is broken by an earlier error");
        }
        if (cancellationToken.IsCancellationRequested)
        {
            // Canceled between two operations of a transaction: the server may be waiting in the
            // middle of it (replies unread, or in DATA), so the session must never be reused.
            IsBroken = true;
            throw new OperationCanceledException(cancellationToken);
        }
        // One timeout source for the whole session, re-armed per operation (CancelAfter) and reset
        // after it, as the server session does: a relayed message runs about seven reads and
        // writes, and a new timer plus a linked source for each was measurable per message. The
        // caller's token is registered, not linked, because TryReset on a linked source's parent
        // would drop the link. A source that was canceled (its timer fired late, or the caller)
        // is replaced, never reused.
        var timer = _timeout;
        if (timer is null || timer.IsCancellationRequested)
        {
            timer = _timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _options.TimeProvider);
        }
        timer.CancelAfter(timeout);
        var onCancel = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => CancelQuietly((CancellationTokenSource)s!), timer)
            : default;
        try
        {
            var result = await operation(timer.Token).ConfigureAwait(false);
            // Unregistered first: Dispose waits for a running callback, so no cancellation can
            // race TryReset (which is not safe to call concurrently with Cancel).
            onCancel.Dispose();
            if (!timer.TryReset())
            {
                _timeout = null;
            }
            return result;
        }
        catch (Exception) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            IsBroken = true;
            throw new SmtpTimeoutException(stage, timeout);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            IsBroken = true;
            throw new OperationCanceledException(cancellationToken);
        }
        catch
        {
            IsBroken = true;
            throw;
        }
        finally
        {
            onCancel.Dispose();
        }
    }

    /// <summary>Cancels a timeout source that the session may have disposed meanwhile (DisposeAsync during an operation).</summary>
    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session is gone; the caller's Cancel must not throw because of it.
        }
    }

    private static SmtpTransactionResult Refused(int count, Reply reply) =>
        new(null, new Reply?[count], null, Enumerable.Repeat(reply, count).ToList());

    /// <summary>A reply used as a failure: a 2xx/3xx where a failure is meant is a protocol oddity, made transient.</summary>
    private static Reply AsFailure(Reply reply) =>
        reply.Code >= 400 ? reply : new Reply(451, "4.5.0", "unexpected reply: " + reply);

    private static bool IsValidPath(string path) => path.AsSpan().IndexOfAny('\r', '\n', '\0') < 0 && path.IndexOf('>') < 0;

    private static bool IsAscii(string text) => System.Text.Ascii.IsValid(text);
}
