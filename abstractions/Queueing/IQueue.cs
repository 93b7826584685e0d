using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Queueing;

/// <summary>
/// What an edge hands messages to. The host's queue engine implements it over any
/// <see cref="IQueueStorage"/>; the <c>proxy</c> queue type implements it by relaying at once;
/// a <c>custom</c> queue factory may return any implementation.
/// </summary>
public interface IQueue
{
    /// <summary>
    /// Takes responsibility for <paramref name="envelope"/>. Returns one result per envelope that
    /// was queued (policies may split one into several). The edge answers 250 only if every
    /// result is accepted. For a persistent queue, a returned id means the message is durable.
    /// </summary>
    ValueTask<IReadOnlyList<QueueResult>> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken);
}
