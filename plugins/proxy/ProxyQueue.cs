using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Proxy;

/// <summary>
/// A queue that is not a queue: <see cref="EnqueueAsync"/> relays the envelope at once and returns
/// the next hop's reply, which the edge passes to its client. Nothing is stored, retried or
/// bounced; the sending client keeps responsibility for the message until it sees a 2xx.
/// </summary>
/// <remarks>
/// The edge gives one reply for the whole DATA transaction, but a relay reports one result per
/// recipient. The reply chosen is: when every recipient was delivered, the first recipient's
/// reply; otherwise the reply of the first recipient that failed (transient or permanent, in
/// recipient order). A failure wins over partial success because the edge can only say "taken"
/// or "not taken": saying 250 would make the client drop a message that some recipients never
/// got, whereas a failure reply lets the client retry or bounce it itself (at worst delivering
/// twice to the recipients that did get it, which SMTP's at-least-once model allows).
/// </remarks>
internal sealed partial class ProxyQueue : IQueue
{
    /// <summary>RFC 3463 4.3.0: other or undefined mail system status.</summary>
    internal static readonly Reply RelayErrorReply = new(451, "4.3.0", "Temporary failure relaying the message, try again later");

    private static readonly Reply NoRecipientsReply = new(250, "2.0.0", "Ok");

    private readonly IRelay _relay;
    private readonly ILogger _logger;

    public ProxyQueue(IRelay relay, ILoggerFactory loggers)
    {
        _relay = relay;
        _logger = loggers.CreateLogger("Slimta.Plugins.Proxy");
    }

    public async ValueTask<IReadOnlyList<QueueResult>> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var id = NewId();
        envelope.Id = id;
        RelayResult result;
        try
        {
            result = await _relay.AttemptAsync(envelope, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // A relay that throws is a transient failure of every recipient (IRelay contract);
            // with no queue behind us the client must try again.
            LogRelayFailed(_logger, ex, id);
            return [QueueResult.Failed(envelope, RelayErrorReply)];
        }

        var reply = ChooseReply(result);
        return reply.IsSuccess
            ? [new QueueResult(envelope, id, reply)]
            : [QueueResult.Failed(envelope, reply)];
    }

    /// <summary>See the remarks on the class for why a failure wins over a partial success.</summary>
    internal static Reply ChooseReply(RelayResult result)
    {
        if (result.Recipients.Count == 0)
        {
            return NoRecipientsReply;
        }
        foreach (var recipient in result.Recipients)
        {
            if (recipient.Outcome != DeliveryOutcome.Delivered)
            {
                return recipient.Reply;
            }
        }
        return result.Recipients[0].Reply;
    }

    /// <summary>A random 128-bit id in lower-case hex, as the queue engine makes them.</summary>
    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Proxy relay of {Id} failed; answering 451 4.3.0")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, string id);
}
