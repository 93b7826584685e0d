using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Server;

// DATA (RFC 5321 §4.1.1.4): 354, the streamed message, then one reply after its end.
public sealed partial class SmtpServerSession
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<bool> OnDataAsync(ReadOnlyMemory<byte> argument, CancellationToken cancellationToken)
    {
        if (!CommandTokenizer.TrimSpaces(argument.Span).IsEmpty)
        {
            return await ErrorAsync(SmtpReplies.NoArguments, cancellationToken).ConfigureAwait(false);
        }
        var transaction = _transaction!;
        Write(SmtpReplies.StartData);
        // From here until the reply is written, a graceful stop waits for this message.
        _inData = true;
        try
        {
            var decoder = new DataDecoder(_message, _options.MaxSize);
            while (!_input.TryDecodeData(decoder))
            {
                if (_input.IsAtEnd)
                {
                    // The client closed the connection inside DATA: nothing was accepted.
                    _message.Reset();
                    return false;
                }
                if (await WaitForInputAsync(_options.DataTimeout).ConfigureAwait(false) != WaitOutcome.Ready)
                {
                    _message.Reset();
                    Write(SmtpReplies.Timeout);
                    return false;
                }
            }
            // Whatever happens next, the transaction is over (RFC 5321 §4.1.1.4).
            _transaction = null;
            _state = SessionState.Ready;
            if (decoder.IsOversize)
            {
                _message.Reset();
                _logger.LogInformation("Refused a message from {Client}: {Size} bytes exceed the limit of {MaxSize}", Info.RemoteEndPoint, decoder.Size, _options.MaxSize);
                return await ReplyAsync(SmtpReplies.MessageTooBig, cancellationToken).ConfigureAwait(false);
            }
            if (decoder.SawBareLineEnding)
            {
                _message.Reset();
                _logger.LogInformation("Refused a message from {Client}: bare CR or LF in DATA", Info.RemoteEndPoint);
                return await ReplyAsync(SmtpReplies.BareLineEndingInData, cancellationToken).ConfigureAwait(false);
            }
            var message = new RawMessage(_message.ToArray());
            _message.Reset();
            Reply reply;
            try
            {
                reply = await _handler.DeliverAsync(Info, transaction, message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _logger.LogError(ex, "Handing over a message from {Client} failed", Info.RemoteEndPoint);
                reply = SmtpReplies.LocalError;
            }
            return await ReplyAsync(reply, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _inData = false;
        }
    }
}
