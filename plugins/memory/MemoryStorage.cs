using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Memory;

/// <summary>
/// A queue storage in a concurrent dictionary. Nothing survives the process. Each entry has its
/// own lock so that updates of one message are atomic (read-modify-write of the attempt count and
/// delivered set) while different messages never contend. Envelopes are copied on the way in and
/// on the way out, so neither the caller of <see cref="WriteAsync"/> nor the caller of
/// <see cref="GetAsync"/> can change what is stored by mutating its envelope afterwards.
/// </summary>
internal sealed class MemoryStorage : IQueueStorage
{
    private readonly ConcurrentDictionary<string, MemoryEntry> _entries = new(StringComparer.Ordinal);

    public ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(envelope);
        cancellationToken.ThrowIfCancellationRequested();
        var entry = new MemoryEntry(Snapshot(envelope, id), nextAttempt);
        if (!_entries.TryAdd(id, entry))
        {
            // Ids are random 128-bit values chosen by the engine; a duplicate is a bug, and
            // overwriting would silently lose a message.
            throw new InvalidOperationException($"A message with id '{id}' is already stored.");
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var entry = Find(id);
        lock (entry)
        {
            entry.NextAttempt = nextAttempt;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var entry = Find(id);
        lock (entry)
        {
            return ValueTask.FromResult(++entry.Attempts);
        }
    }

    public ValueTask SetRecipientsDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        cancellationToken.ThrowIfCancellationRequested();
        var entry = Find(id);
        lock (entry)
        {
            foreach (int index in recipientIndexes)
            {
                if (index < 0 || index >= entry.Envelope.Recipients.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(recipientIndexes), index, $"Message '{id}' has {entry.Envelope.Recipients.Count} recipients.");
                }
            }
            // Delivered recipients accumulate over attempts: a recipient delivered once is never
            // attempted again (queue-and-relay.md, "partial").
            entry.Delivered.UnionWith(recipientIndexes);
        }
        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<ScheduledMessage> LoadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The dictionary enumerator is safe against concurrent changes; a message written while
        // this runs may or may not be listed, which the engine tolerates (it schedules new writes itself).
        foreach (var (id, entry) in _entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DateTimeOffset next;
            lock (entry)
            {
                next = entry.NextAttempt;
            }
            yield return new ScheduledMessage(id, next);
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public ValueTask<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_entries.TryGetValue(id, out var entry))
        {
            return ValueTask.FromResult<StoredMessage?>(null);
        }
        lock (entry)
        {
            return ValueTask.FromResult<StoredMessage?>(new StoredMessage(
                id,
                Snapshot(entry.Envelope, id),
                entry.Attempts,
                entry.NextAttempt,
                entry.Delivered.Count == 0 ? FrozenSet<int>.Empty : new HashSet<int>(entry.Delivered)));
        }
    }

    public ValueTask RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        _entries.TryRemove(id, out _);
        return ValueTask.CompletedTask;
    }

    private MemoryEntry Find(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _entries.TryGetValue(id, out var entry)
            ? entry
            : throw new KeyNotFoundException($"No message with id '{id}' is stored.");
    }

    /// <summary>
    /// A copy that shares only immutable parts (the <see cref="RawMessage"/> and the
    /// <see cref="ClientInfo"/> record) with the original.
    /// </summary>
    private static Envelope Snapshot(Envelope envelope, string id)
    {
        var copy = envelope.Copy();
        copy.Id = id;
        return copy;
    }
}
