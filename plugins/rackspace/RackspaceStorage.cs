using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// A queue storage in Rackspace Cloud Files: one object per message in <c>container_name</c>,
/// named by the queue id, holding the envelope and message (<see cref="ObjectBody"/>), with the
/// changing state in object metadata (<see cref="ObjectMetadata"/>). Without <c>queue_name</c>
/// this is a plain storage: the host's engine keeps the schedule in memory and reloads it from the
/// container listing at startup, so the container belongs to one process. With <c>queue_name</c>
/// the storage is a <see cref="RackspaceSharedStorage"/>.
/// <para>
/// Every call authenticates through <see cref="RackspaceIdentity"/>, has a deadline and is retried
/// briefly on transport errors and 5xx (<see cref="RackspaceTransport"/>); when Rackspace stays
/// unreachable the call throws, so a new message is refused with 451 and stored ones wait.
/// </para>
/// </summary>
internal class RackspaceStorage : IQueueStorage, IAsyncDisposable
{
    private readonly RackspaceTransport _transport;
    private readonly KeyedLock _locks = new();
    private int _disposed;

    protected RackspaceStorage(RackspaceSettings settings, RackspaceTransport transport, RackspaceApi api, TimeProvider time, ILogger log)
    {
        Settings = settings;
        _transport = transport;
        Api = api;
        Time = time;
        Log = log;
        Files = new CloudFilesClient(api, settings.ContainerName);
    }

    /// <summary>Creates the storage for the settings: shared (Cloud Queues) when <c>queue_name</c> is set. No call is made yet.</summary>
    public static RackspaceStorage Create(RackspaceSettings settings, HttpClient client, TimeProvider time, ILogger log)
    {
        var transport = new RackspaceTransport(client, settings.Timeout, time, log, settings.Name);
        var api = new RackspaceApi(transport, new RackspaceIdentity(settings, transport, time, log));
        return settings.QueueName is null
            ? new RackspaceStorage(settings, transport, api, time, log)
            : new RackspaceSharedStorage(settings, transport, api, time, log);
    }

    protected RackspaceSettings Settings { get; }

    protected RackspaceApi Api { get; }

    protected TimeProvider Time { get; }

    protected ILogger Log { get; }

    protected CloudFilesClient Files { get; }

    /// <summary>The token cache (tests count authentications).</summary>
    public RackspaceIdentity Identity => Api.Identity;

    public virtual async ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(envelope);
        // Encoded before the first await: the caller may change the envelope after we return.
        var body = ObjectBody.Encode(envelope);
        await Files.PutAsync(id, body, new ObjectMetadata(nextAttempt, 0, new HashSet<int>()), cancellationToken).ConfigureAwait(false);
    }

    public virtual async ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        await UpdateAsync(id, m => m with { NextAttempt = nextAttempt }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var meta = await UpdateAsync(id, m => m with { Attempts = m.Attempts + 1 }, cancellationToken).ConfigureAwait(false);
        return meta.Attempts;
    }

    public async ValueTask SetRecipientsDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        if (recipientIndexes.Count == 0)
        {
            return;
        }
        await UpdateAsync(id, m => m with { Delivered = new HashSet<int>(m.Delivered.Concat(recipientIndexes)) }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Read-modify-write of the metadata: HEAD, change, POST every header (a Swift POST replaces
    /// all X-Object-Meta-*). Serialized per message in this process.
    /// </summary>
    protected async Task<ObjectMetadata> UpdateAsync(string id, Func<ObjectMetadata, ObjectMetadata> change, CancellationToken cancellationToken)
    {
        using var _ = await _locks.LockAsync(id, cancellationToken).ConfigureAwait(false);
        var current = await Files.HeadAsync(id, cancellationToken).ConfigureAwait(false) ?? throw new KeyNotFoundException($"No message with id '{id}' is stored.");
        var updated = change(current);
        return await Files.PostMetadataAsync(id, updated, cancellationToken).ConfigureAwait(false)
            ? updated
            : throw new KeyNotFoundException($"No message with id '{id}' is stored.");
    }

    public async IAsyncEnumerable<ScheduledMessage> LoadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Swift lists names in order, so the last name of a page is the marker of the next.
        string? marker = null;
        while (true)
        {
            var names = await Files.ListAsync(marker, cancellationToken).ConfigureAwait(false);
            if (names.Count == 0)
            {
                yield break;
            }
            foreach (var name in names)
            {
                ObjectMetadata? meta;
                try
                {
                    meta = await Files.HeadAsync(name, cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidDataException e)
                {
                    Log.LogWarning("queue={Queue} object {Name} in container {Container} is not a queued message ({Message}); skipped", Settings.Name, name, Settings.ContainerName, e.Message);
                    continue;
                }
                if (meta is not null) // null: removed since the listing
                {
                    yield return new ScheduledMessage(name, meta.NextAttempt);
                }
            }
            // Not "fewer than asked means last page": a cluster may cap the limit lower.
            marker = names[^1];
        }
    }

    public async ValueTask<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var got = await Files.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return got is { } g ? ToStored(id, g.Body, g.Meta) : null;
    }

    protected static StoredMessage ToStored(string id, byte[] body, ObjectMetadata meta) =>
        new(id, ObjectBody.Decode(id, body), meta.Attempts, meta.NextAttempt, new HashSet<int>(meta.Delivered));

    public virtual async ValueTask RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        await Files.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await DisposeCoreAsync().ConfigureAwait(false);
        _transport.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs before the HTTP client is disposed (the shared storage releases its claims here).</summary>
    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;
}
