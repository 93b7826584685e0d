using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Aws;

/// <summary>
/// An aws queue without <c>queue_name</c>: messages in S3 only, the schedule kept by the host's
/// queue engine of the one process that uses the bucket and prefix (it lists the bucket at
/// startup). Two processes must not share such a queue: use <c>queue_name</c> for that.
/// </summary>
internal sealed class AwsStorage : IQueueStorage, IAsyncDisposable
{
    private readonly S3MessageStore _store;

    public AwsStorage(S3MessageStore store)
    {
        _store = store;
    }

    /// <summary>The S3 side (for tests).</summary>
    internal S3MessageStore Store => _store;

    public async ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(envelope);
        await _store.PutAsync(id, envelope, nextAttempt, null, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        await _store.UpdateAsync(id, s => s.NextMs = nextAttempt.ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        return await _store.IncrementAttemptsAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetRecipientsDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        await _store.MarkDeliveredAsync(id, recipientIndexes, cancellationToken).ConfigureAwait(false);
    }

    public IAsyncEnumerable<ScheduledMessage> LoadAllAsync(CancellationToken cancellationToken) => _store.ListAsync(cancellationToken);

    public async ValueTask<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        return (await _store.GetAsync(id, cancellationToken).ConfigureAwait(false))?.Message;
    }

    public async ValueTask RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        await _store.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _store.Client.Dispose();
        _store.Dispose();
        return ValueTask.CompletedTask;
    }
}
