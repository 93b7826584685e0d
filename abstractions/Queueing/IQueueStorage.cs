using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Queueing;

/// <summary>
/// Where a queue keeps its messages. Storage plugins implement storage only: the host wraps
/// every storage in its one queue engine, which does scheduling, retries and bounces.
/// Every method that changes state must have made the change durable (as durable as the
/// storage type promises) before its task completes, because the edge answers 250 after
/// <see cref="WriteAsync"/> returns. Implementations must be safe for concurrent callers.
/// A storage that holds resources may also implement <see cref="IAsyncDisposable"/>.
/// </summary>
public interface IQueueStorage
{
    /// <summary>Stores a new message under <paramref name="id"/> (chosen by the engine) with 0 attempts.</summary>
    ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken);

    /// <summary>Records when the next attempt of <paramref name="id"/> is due.</summary>
    ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken);

    /// <summary>Adds one to the attempt count of <paramref name="id"/> and returns the new count.</summary>
    ValueTask<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken);

    /// <summary>Records recipients as delivered: indexes into the message's original recipient list.</summary>
    ValueTask SetRecipientsDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken);

    /// <summary>Every message the storage holds, with its next attempt time (used at startup).</summary>
    IAsyncEnumerable<ScheduledMessage> LoadAllAsync(CancellationToken cancellationToken);

    /// <summary>The stored message, or null when it no longer exists.</summary>
    ValueTask<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Removes a message (delivered or failed). Removing a missing id is not an error.</summary>
    ValueTask RemoveAsync(string id, CancellationToken cancellationToken);
}
