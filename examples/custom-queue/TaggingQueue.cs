using System.Security.Cryptography;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Examples.CustomQueue;

/// <summary>
/// A queue that stamps each message with an <c>X-Queue-Tag</c> header and delivers it at once
/// through the relay while the client waits, passing the relay's reply back to the client.
/// </summary>
public sealed class TaggingQueue(string tag, IRelay relay) : IQueue
{
    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<QueueResult>> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        envelope.Id ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        envelope.Message = envelope.Message.PrependHeader("X-Queue-Tag", tag);
        var result = await relay.AttemptAsync(envelope, 0, cancellationToken);
        var failed = result.Recipients.FirstOrDefault(r => r.Outcome != DeliveryOutcome.Delivered);
        var reply = failed.Reply ?? result.Recipients[0].Reply;
        return [new QueueResult(envelope, envelope.Id, reply)];
    }
}
