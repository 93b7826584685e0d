using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;
using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

// One mail transaction: MAIL, RCPT…, DATA, the message, the final reply (RFC 5321 §3.3).
public sealed partial class SmtpClient
{
    private static readonly Reply ControlCharactersInSender = new(553, "5.1.7", "the sender address contains control characters");
    private static readonly Reply ControlCharactersInRecipient = new(553, "5.1.3", "the recipient address contains control characters");

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
        var transaction = Prepare(sender, recipients, message, smtpUtf8);
        if (transaction.Result is { } decided)
        {
            return decided;
        }
        await BeginAsync(transaction, resetFirst, cancellationToken).ConfigureAwait(false);
        return await FinishAsync(transaction, next: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// True when a transaction's MAIL, RCPT and DATA may follow the previous message's final dot
    /// in the same write (<see cref="FinishAsync"/> with a next transaction): the server offers
    /// PIPELINING (RFC 2920 §3.1 lets the message content be the first "command" of a group) and
    /// this is SMTP, not LMTP.
    /// </summary>
    public bool CanChain => Extensions.Pipelining && !_options.Lmtp && !IsBroken;

    /// <summary>
    /// Checks a message against this session's extensions without any I/O: addresses, 8-bit data
    /// (converted when a converter is configured), SMTPUTF8. A message the client must refuse
    /// itself comes back with <see cref="SmtpClientTransaction.Result"/> already set.
    /// </summary>
    public SmtpClientTransaction Prepare(string sender, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, bool smtpUtf8)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipients);
        int count = recipients.Count;
        if (!IsValidPath(sender))
        {
            return SmtpClientTransaction.Decided(Refused(count, ControlCharactersInSender));
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
                return SmtpClientTransaction.Decided(Refused(count, new Reply(554, "5.6.3", "the message contains 8-bit data and the server does not offer 8BITMIME")));
            }
            message = sevenBit;
            eightBit = false;
        }
        bool utf8Addresses = !IsAscii(sender);
        for (int i = 0; i < count && !utf8Addresses; i++)
        {
            utf8Addresses = !IsAscii(recipients[i]);
        }
        if (utf8Addresses && !Extensions.SmtpUtf8)
        {
            // RFC 6531 §3.2: internationalized addresses need a server that offers SMTPUTF8.
            return SmtpClientTransaction.Decided(Refused(count, new Reply(553, "5.6.7", "the addresses need SMTPUTF8 and the server does not offer it")));
        }

        var transaction = new SmtpClientTransaction(sender, recipients, message, eightBit, (utf8Addresses || smtpUtf8) && Extensions.SmtpUtf8);
        var decided = transaction.Decisions;
        int toSend = 0;
        for (int i = 0; i < count; i++)
        {
            if (IsValidPath(recipients[i]))
            {
                toSend++;
            }
            else
            {
                decided[i] = ControlCharactersInRecipient;
            }
        }
        if (toSend == 0)
        {
            transaction.Result = new SmtpTransactionResult(null, transaction.RcptReplies, null, decided!);
        }
        return transaction;
    }

    /// <summary>
    /// Sends MAIL, every RCPT and DATA of a prepared transaction — as one pipelined group when the
    /// server offers PIPELINING (RFC 2920), else in lock-step — and reads their replies; then
    /// call <see cref="FinishAsync"/>. With <paramref name="resetFirst"/> the group starts with RSET,
    /// which checks that a session reused from a pool is still alive.
    /// </summary>
    /// <exception cref="SmtpStaleSessionException">The RSET failed: nothing was delivered, send again on another session.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask BeginAsync(SmtpClientTransaction transaction, bool resetFirst, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (transaction.Result is not null || transaction.Started || transaction.GroupWritten)
        {
            throw new InvalidOperationException("The transaction was decided or started already.");
        }
        if (resetFirst && IsBroken && !_disposed)
        {
            // A reused session that cannot even send its RSET is stale: nothing was sent.
            throw new SmtpStaleSessionException(new SmtpProtocolException("the SMTP session is broken by an earlier error"));
        }
        using var operation = BeginOperation(cancellationToken);
        transaction.Started = true;
        if (Extensions.Pipelining)
        {
            // RFC 2920 §3.1: RSET, MAIL, every RCPT and DATA may go in one group; the replies come back in order.
            _commands.ResetWrittenCount();
            if (resetFirst)
            {
                AppendAscii("RSET\r\n"u8);
            }
            AppendGroup(transaction);
            if (resetFirst)
            {
                await CheckResetAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WriteAsync(_commands.WrittenMemory, SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            }
            await ReadGroupRepliesAsync(transaction, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (resetFirst)
        {
            _commands.ResetWrittenCount();
            AppendAscii("RSET\r\n"u8);
            await CheckResetAsync(cancellationToken).ConfigureAwait(false);
        }
        _commands.ResetWrittenCount();
        AppendMail(transaction.Sender, transaction.Message, transaction.EightBit, transaction.WithSmtpUtf8);
        var mailReply = await CommandInBufferAsync(cancellationToken).ConfigureAwait(false);
        transaction.MailReply = mailReply;
        if (!mailReply.IsSuccess)
        {
            return;
        }
        bool anyAccepted = false;
        var recipients = transaction.Recipients;
        for (int i = 0; i < recipients.Count; i++)
        {
            if (transaction.Decisions[i] is null)
            {
                _commands.ResetWrittenCount();
                AppendRcpt(recipients[i]);
                var reply = await CommandInBufferAsync(cancellationToken).ConfigureAwait(false);
                transaction.RcptReplies[i] = reply;
                anyAccepted |= reply.IsSuccess;
            }
        }
        if (anyAccepted)
        {
            transaction.DataReply = await CommandAsync("DATA", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the replies to a transaction's MAIL, RCPT and DATA that <see cref="FinishAsync"/>
    /// sent behind the previous message; then call <see cref="FinishAsync"/>. Nothing of this
    /// transaction can have been delivered before its DATA reply, so a lost or timed-out session
    /// is reported as stale: send the message again on another session.
    /// </summary>
    /// <exception cref="SmtpStaleSessionException">The session failed before the replies were read.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadChainedAsync(SmtpClientTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (!transaction.GroupWritten || transaction.MailReply is not null)
        {
            throw new InvalidOperationException("The transaction was not sent behind another one, or its replies were read already.");
        }
        if (IsBroken && !_disposed)
        {
            throw new SmtpStaleSessionException(new SmtpProtocolException("the SMTP session is broken by an earlier error"));
        }
        using var operation = BeginOperation(cancellationToken);
        try
        {
            await ReadGroupRepliesAsync(transaction, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            IsBroken = true;
            throw new SmtpStaleSessionException(e);
        }
        if (transaction.MailReply is { Code: 421 } closing)
        {
            // The server is closing the session (RFC 5321 §3.8) right after the previous message:
            // like a reused session's failed RSET, this says nothing about this message.
            IsBroken = true;
            throw new SmtpStaleSessionException(closing);
        }
    }

    /// <summary>
    /// After <see cref="BeginAsync"/> (or <see cref="ReadChainedAsync"/>): sends the dot-stuffed
    /// message when DATA was answered 354 and a recipient was accepted, and reads the final reply
    /// (for LMTP, one per accepted recipient); else ends the transaction with RSET. When
    /// <paramref name="next"/> is given, <see cref="CanChain"/> holds and the message is sent,
    /// next's MAIL, RCPT and DATA go in the same write right behind the final dot (RFC 2920 §3.1)
    /// and <see cref="SmtpClientTransaction.GroupWritten"/> is set: read their replies with
    /// <see cref="ReadChainedAsync"/> once this call returned and the session is not broken.
    /// </summary>
    /// <returns>One deciding reply per recipient.</returns>
    /// <exception cref="IOException">The connection failed before the final reply.</exception>
    /// <exception cref="SmtpTimeoutException">A stage timed out before the final reply.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<SmtpTransactionResult> FinishAsync(SmtpClientTransaction transaction, SmtpClientTransaction? next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (transaction.Result is { } decided)
        {
            return decided;
        }
        if (!transaction.Started && (!transaction.GroupWritten || transaction.MailReply is null))
        {
            // A transaction sent behind another needs ReadChainedAsync first: its replies are
            // still unread, and the server may be waiting for its message data.
            throw new InvalidOperationException("The transaction was not begun, or its replies were not read.");
        }
        if (next is not null && (next.Result is not null || next.Started || next.GroupWritten))
        {
            throw new InvalidOperationException("The next transaction was decided or started already.");
        }
        using var operation = BeginOperation(cancellationToken);
        var accepted = transaction.Accept();
        var decisions = transaction.Decisions;
        var mailReply = transaction.MailReply;
        var dataReply = transaction.DataReply;
        if (dataReply is { Code: 354 } && accepted.Count > 0)
        {
            if (next is not null && CanChain)
            {
                // The next group is built before the write so that it can share it.
                _commands.ResetWrittenCount();
                AppendGroup(next);
                next.GroupWritten = true;
            }
            else
            {
                next = null;
            }
            await SendDataAsync(transaction.Message, next is null ? default : _commands.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await ReadFinalRepliesAsync(accepted, decisions, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (dataReply is { Code: 354 })
            {
                // A pipelining server said "go ahead" although no recipient was accepted: end
                // the data at once with an empty message (RFC 2920 §3.1) and ignore its reply.
                _commands.ResetWrittenCount();
                AppendAscii(".\r\n"u8);
                await WriteAsync(_commands.WrittenMemory, SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
                await ReadReplyAsync(SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
            }
            foreach (int i in accepted)
            {
                decisions[i] = AsFailure(dataReply ?? new Reply(451, "4.5.0", "DATA was not sent"));
            }
            // RFC 5321 §4.1.1.5: clear the failed transaction so the session can be reused.
            await TryResetAsync(cancellationToken).ConfigureAwait(false);
        }
        var result = new SmtpTransactionResult(mailReply, transaction.RcptReplies, dataReply, decisions!);
        transaction.Result = result;
        return result;
    }

    /// <summary>MAIL, the RCPTs still undecided and DATA, into the command buffer.</summary>
    private void AppendGroup(SmtpClientTransaction transaction)
    {
        AppendMail(transaction.Sender, transaction.Message, transaction.EightBit, transaction.WithSmtpUtf8);
        var recipients = transaction.Recipients;
        for (int i = 0; i < recipients.Count; i++)
        {
            if (transaction.Decisions[i] is null)
            {
                AppendRcpt(recipients[i]);
            }
        }
        AppendAscii("DATA\r\n"u8);
    }

    /// <summary>The replies to a pipelined group, in order: MAIL, each RCPT sent, DATA.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadGroupRepliesAsync(SmtpClientTransaction transaction, CancellationToken cancellationToken)
    {
        var timeout = _options.CommandTimeout;
        transaction.MailReply = await ReadReplyAsync(SmtpStage.Command, timeout, cancellationToken).ConfigureAwait(false);
        var decisions = transaction.Decisions;
        for (int i = 0; i < decisions.Length; i++)
        {
            if (decisions[i] is null)
            {
                transaction.RcptReplies[i] = await ReadReplyAsync(SmtpStage.Command, timeout, cancellationToken).ConfigureAwait(false);
            }
        }
        transaction.DataReply = await ReadReplyAsync(SmtpStage.Command, timeout, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadFinalRepliesAsync(List<int> accepted, Reply?[] decided, CancellationToken cancellationToken)
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

    /// <summary>The dot-stuffed message; <paramref name="after"/> (the next transaction's commands) goes in its last write.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendDataAsync(ReadOnlyMemory<byte> message, ReadOnlyMemory<byte> after, CancellationToken cancellationToken)
    {
        var stuffer = new DotStuffer(message);
        // One write for a message that fits (most do); larger ones go in 64 KiB pieces.
        int room = (int)Math.Min(64 * 1024, message.Length + (message.Length / 64L) + 8);
        var buffer = ArrayPool<byte>.Shared.Rent(room + after.Length);
        try
        {
            while (!stuffer.IsCompleted)
            {
                int n = stuffer.Fill(buffer.AsSpan(0, room));
                if (stuffer.IsCompleted && !after.IsEmpty)
                {
                    after.Span.CopyTo(buffer.AsSpan(n));
                    n += after.Length;
                }
                await WriteAsync(buffer.AsMemory(0, n), SmtpStage.Data, _options.DataTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Sends the commands in the buffer, which start with the RSET of a reused session (alone, or
    /// with the rest of a pipelined group behind it), and reads the RSET's reply; any failure
    /// makes the session stale (and broken).
    /// </summary>
    private async ValueTask CheckResetAsync(CancellationToken cancellationToken)
    {
        Reply reply;
        try
        {
            reply = await CommandInBufferAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>Writes the commands in the buffer and reads one reply under the command timeout.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Reply> CommandInBufferAsync(CancellationToken cancellationToken)
    {
        await WriteAsync(_commands.WrittenMemory, SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(SmtpStage.Command, _options.CommandTimeout, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask TryResetAsync(CancellationToken cancellationToken)
    {
        try
        {
            var reply = await CommandAsync("RSET", cancellationToken).ConfigureAwait(false);
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

    /// <summary><c>MAIL FROM:&lt;sender&gt;</c> with its parameters and CRLF, into the command buffer.</summary>
    private void AppendMail(string sender, ReadOnlyMemory<byte> message, bool eightBit, bool smtpUtf8)
    {
        AppendAscii("MAIL FROM:<"u8);
        AppendUtf8(sender);
        AppendAscii(">"u8);
        if (Extensions.HasSize)
        {
            // RFC 1870: the size as sent, without dot-stuffing; CRLF is added to an unterminated message.
            long size = message.Length + (message.Span.EndsWith("\r\n"u8) || message.Length == 0 ? 0 : 2);
            AppendAscii(" SIZE="u8);
            var span = _commands.GetSpan(20);
            Utf8Formatter.TryFormat(size, span, out int written);
            _commands.Advance(written);
        }
        if (eightBit)
        {
            AppendAscii(" BODY=8BITMIME"u8);
        }
        if (smtpUtf8)
        {
            AppendAscii(" SMTPUTF8"u8);
        }
        AppendAscii("\r\n"u8);
    }

    private void AppendRcpt(string recipient)
    {
        AppendAscii("RCPT TO:<"u8);
        AppendUtf8(recipient);
        AppendAscii(">\r\n"u8);
    }

    private void AppendAscii(ReadOnlySpan<byte> bytes) => _commands.Write(bytes);

    private void AppendUtf8(string text)
    {
        var span = _commands.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        _commands.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static SmtpTransactionResult Refused(int count, Reply reply)
    {
        var replies = new Reply[count];
        Array.Fill(replies, reply);
        return new(null, new Reply?[count], null, replies);
    }

    /// <summary>A reply used as a failure: a 2xx/3xx where a failure is meant is a protocol oddity, made transient.</summary>
    internal static Reply AsFailure(Reply reply) =>
        reply.Code >= 400 ? reply : new Reply(451, "4.5.0", "unexpected reply: " + reply);

    private static bool IsValidPath(string path) => path.AsSpan().IndexOfAny('\r', '\n', '\0') < 0 && path.IndexOf('>') < 0;

    private static bool IsAscii(string text) => System.Text.Ascii.IsValid(text);
}
