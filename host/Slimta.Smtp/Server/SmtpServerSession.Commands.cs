using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Server;

// The command handlers of the state table (SessionStateTable). Each writes exactly one reply.
public sealed partial class SmtpServerSession
{
    internal ValueTask<bool> OnHeloAsync(ReadOnlyMemory<byte> argument, bool extended, CancellationToken cancellationToken)
    {
        var name = CommandTokenizer.TrimSpaces(argument.Span);
        if (name.IsEmpty)
        {
            return ErrorAsync(SmtpReplies.NeedHostname, cancellationToken);
        }
        Info.EhloName = Encoding.UTF8.GetString(name);
        Info.IsExtended = extended;
        // RFC 5321 §4.1.4: EHLO/HELO in a session resets the transaction like RSET. HELO only
        // stops us from advertising extensions: every limit (SIZE included) stays enforced.
        _transaction = null;
        _state = SessionState.Ready;
        return ReplyAsync(extended ? BuildEhloReply() : new Reply(250, null, _options.Hostname), cancellationToken);
    }

    internal ValueTask<bool> OnRsetAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        if (!CommandTokenizer.TrimSpaces(argument.Span).IsEmpty)
        {
            return ErrorAsync(SmtpReplies.NoArguments, cancellationToken);
        }
        _transaction = null;
        if (_state != SessionState.Connected)
        {
            _state = SessionState.Ready;
        }
        return ReplyAsync(SmtpReplies.Ok, cancellationToken);
    }

    internal ValueTask<bool> OnQuitAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        _ = argument;
        _ = cancellationToken;
        Write(SmtpReplies.Bye);
        return ValueTask.FromResult(false);
    }

    internal ValueTask<bool> OnVrfyAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken) =>
        CommandTokenizer.TrimSpaces(argument.Span).IsEmpty
            ? ErrorAsync(SmtpReplies.VrfySyntax, cancellationToken)
            : ReplyAsync(SmtpReplies.CannotVerify, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<bool> OnMailAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        switch (PathCommandParser.ParseMail(argument.Span, out var path, _parameters))
        {
            case PathCommandError.PathSyntax:
                return await ErrorAsync(SmtpReplies.MailSyntax, cancellationToken).ConfigureAwait(false);
            case PathCommandError.ParameterSyntax:
                return await ErrorAsync(SmtpReplies.ParameterSyntax, cancellationToken).ConfigureAwait(false);
        }
        var transaction = new SmtpTransaction(path.Address);
        var problem = ApplyMailParameters(transaction, out bool isProtocolError);
        if (problem is not null)
        {
            return isProtocolError
                ? await ErrorAsync(problem, cancellationToken).ConfigureAwait(false)
                : await ReplyAsync(problem, cancellationToken).ConfigureAwait(false);
        }
        if (path.IsNonAscii && !transaction.SmtpUtf8)
        {
            return await ReplyAsync(SmtpReplies.NeedSmtpUtf8, cancellationToken).ConfigureAwait(false);
        }
        Reply? refusal;
        try
        {
            refusal = await _handler.CheckSenderAsync(Info, transaction, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(ex, "Checking the sender from {Client} failed", Info.RemoteEndPoint);
            return await ReplyAsync(SmtpReplies.LocalError, cancellationToken).ConfigureAwait(false);
        }
        if (refusal is { IsSuccess: false })
        {
            return await ReplyAsync(refusal, cancellationToken).ConfigureAwait(false);
        }
        _transaction = transaction;
        _state = SessionState.Mail;
        return await ReplyAsync(refusal ?? SmtpReplies.SenderOk, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Validates SIZE (RFC 1870), BODY (RFC 6152) and SMTPUTF8 (RFC 6531); anything else is 555.</summary>
    private Reply? ApplyMailParameters(SmtpTransaction transaction, out bool isProtocolError)
    {
        isProtocolError = true;
        bool seenBody = false;
        foreach (var (keyword, value) in _parameters)
        {
            switch (keyword)
            {
                case "SIZE":
                    if (transaction.DeclaredSize is not null || value is null || !value.All(char.IsAsciiDigit))
                    {
                        return SmtpReplies.ParameterSyntax;
                    }
                    // Digits only, so the only parse failure left is overflow: a size that does
                    // not fit 64 bits is certainly above the limit.
                    if (!long.TryParse(value, out long size) || size > _options.MaxSize)
                    {
                        isProtocolError = false;
                        return SmtpReplies.MessageTooBig;
                    }
                    transaction.DeclaredSize = size;
                    break;
                case "BODY":
                    if (seenBody || value is null)
                    {
                        return SmtpReplies.ParameterSyntax;
                    }
                    seenBody = true;
                    var body = value.ToUpperInvariant();
                    if (body is not ("7BIT" or "8BITMIME"))
                    {
                        return SmtpReplies.ParameterSyntax;
                    }
                    transaction.BodyType = body;
                    break;
                case "SMTPUTF8":
                    if (transaction.SmtpUtf8 || value is not null)
                    {
                        return SmtpReplies.ParameterSyntax;
                    }
                    transaction.SmtpUtf8 = true;
                    break;
                default:
                    return SmtpReplies.UnknownParameter;
            }
        }
        return null;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<bool> OnRcptAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        var transaction = _transaction!;
        if (transaction.Recipients.Count >= _options.MaxRecipients)
        {
            transaction.RefusedRecipients++;
            return await ReplyAsync(SmtpReplies.TooManyRecipients, cancellationToken).ConfigureAwait(false);
        }
        var error = PathCommandParser.ParseRcpt(argument.Span, out var path, _parameters);
        if (error != PathCommandError.None || _parameters.Count > 0)
        {
            transaction.RefusedRecipients++;
            var reply = error switch
            {
                PathCommandError.PathSyntax => SmtpReplies.RcptSyntax,
                PathCommandError.ParameterSyntax => SmtpReplies.ParameterSyntax,
                _ => SmtpReplies.UnknownParameter,
            };
            return await ErrorAsync(reply, cancellationToken).ConfigureAwait(false);
        }
        if (path.IsNonAscii && !transaction.SmtpUtf8)
        {
            transaction.RefusedRecipients++;
            return await ReplyAsync(SmtpReplies.NeedSmtpUtf8, cancellationToken).ConfigureAwait(false);
        }
        Reply? refusal;
        try
        {
            refusal = await _handler.CheckRecipientAsync(Info, transaction, path.Address, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(ex, "Checking a recipient from {Client} failed", Info.RemoteEndPoint);
            refusal = SmtpReplies.LocalError;
        }
        if (refusal is { IsSuccess: false })
        {
            transaction.RefusedRecipients++;
            return await ReplyAsync(refusal, cancellationToken).ConfigureAwait(false);
        }
        transaction.AddRecipient(path.Address);
        _state = SessionState.Rcpt;
        return await ReplyAsync(refusal ?? SmtpReplies.RecipientOk, cancellationToken).ConfigureAwait(false);
    }

    internal ValueTask<bool> OnDataWithoutRecipientsAsync(CancellationToken cancellationToken) =>
        _transaction is { RefusedRecipients: > 0 }
            ? ReplyAsync(SmtpReplies.NoValidRecipients, cancellationToken)
            : ErrorAsync(SmtpReplies.NeedRcpt, cancellationToken);
}
