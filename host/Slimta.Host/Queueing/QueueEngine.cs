using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Logging;
using Slimta.Host.Metrics;

namespace Slimta.Host.Queueing;

/// <summary>
/// The one queue engine of the host, used over every storage type: policies → store → attempt →
/// retry (delay expression) → partial delivery → bounce, plus optional delay notices. Storage plugins
/// only store; scheduling, retries and bounces live here (../shared/spec/queue-and-relay.md).
/// Relay-time policies are not run here: the host wraps the relay (<see cref="PolicyRelay"/>), so
/// every queue type gets them.
/// <para>
/// Delivery is at-least-once: state changes are written to storage before they are acted on, and
/// one message never has two attempts running at once in this process. Every timer goes through
/// the <see cref="TimeProvider"/>, so a retry schedule of hours runs in a test in milliseconds.
/// </para>
/// <para>
/// Shared mode: when the storage is an <see cref="ISharedQueueStorage"/> (redis), several processes
/// use one queue, so this engine keeps no schedule of its own. New messages and reschedules go to
/// the storage only; a delivering engine claims due messages from it (one worker per message at a
/// time), renews its claims while attempts run, and gives them back on shutdown. A worker that dies
/// leaves claims that expire after the lease and are taken over by another worker.
/// </para>
/// </summary>
public sealed partial class QueueEngine : IQueue, IAsyncDisposable
{
    /// <summary>How long to wait before trying again after the storage itself failed during an attempt.</summary>
    public static readonly TimeSpan StorageErrorDelay = TimeSpan.FromMinutes(1);

    /// <summary>Shared mode: the longest an idle worker waits before asking the storage again (delayed retries become due without any signal).</summary>
    public static readonly TimeSpan SharedPollInterval = TimeSpan.FromSeconds(1);

    private readonly IQueueStorage _storage;
    // Not readonly: a configuration reload (SIGHUP) swaps them; see QueueEngine.Admin.cs.
    private volatile IRelay? _relay;
    private volatile IReadOnlyList<IQueuePolicy> _policies;
    private volatile RetrySchedule? _retry;
    private volatile BounceBuilder _bounces;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly int _maxConcurrentAttempts;
    private readonly ISharedQueueStorage? _shared;
    private readonly string _workerId;

    private readonly Lock _lock = new();
    private readonly PriorityQueue<string, DateTimeOffset> _due = new();
    private readonly Dictionary<string, DateTimeOffset> _scheduled = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private bool _waitingForSlot;
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopScheduling = new();
    private readonly CancellationTokenSource _abortAttempts = new();
    private readonly CancellationTokenSource _stopRenewing = new();
    private Task? _loop;
    private Task? _renewLoop;

    /// <summary>Creates an engine. Call <see cref="StartAsync"/> to load stored messages and begin delivering.</summary>
    /// <param name="name">The queue's name in slimta.conf (for logs).</param>
    /// <param name="storage">Where messages are kept.</param>
    /// <param name="relay">Where messages are delivered; null for a queue that only stores.</param>
    /// <param name="policies">Queue policies, run in order on every new message.</param>
    /// <param name="retry">The retry block; null means a transient failure fails the message at once.</param>
    /// <param name="bounces">Builds bounce messages and delay notices, with the queue's <c>bounce</c> settings.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The log.</param>
    /// <param name="maxConcurrentAttempts">At most this many attempts run at once (a restart with a large spool must not open thousands of connections).</param>
    public QueueEngine(
        string name,
        IQueueStorage storage,
        IRelay? relay,
        IReadOnlyList<IQueuePolicy> policies,
        RetrySchedule? retry,
        BounceBuilder bounces,
        TimeProvider time,
        ILogger logger,
        int maxConcurrentAttempts = 256)
    {
        Name = name;
        _storage = storage;
        _relay = relay;
        _policies = policies;
        _retry = retry;
        _bounces = bounces;
        _time = time;
        _log = logger;
        _maxConcurrentAttempts = maxConcurrentAttempts;
        _shared = storage as ISharedQueueStorage;
        // Unique per engine instance: a restarted worker must not renew or release the claims of
        // its previous life (those expire and are taken over like any dead worker's).
        _workerId = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    }

    /// <summary>True when the storage is shared between processes and this engine claims work from it.</summary>
    public bool IsShared => _shared is not null;

    /// <summary>This engine's worker id in claims of a shared storage.</summary>
    public string WorkerId => _workerId;

    /// <summary>The queue's name.</summary>
    public string Name { get; }

    /// <summary>The storage behind the queue.</summary>
    public IQueueStorage Storage => _storage;

    /// <summary>Where bounces go (<c>bounce_queue</c>; by default this queue). Set before <see cref="StartAsync"/>.</summary>
    public IQueue? BounceQueue { get; set; }

    /// <summary>Messages waiting for a scheduled attempt (not counting running attempts).</summary>
    public int ScheduledCount
    {
        get
        {
            lock (_lock)
            {
                return _scheduled.Count;
            }
        }
    }

    /// <summary>Attempts running now.</summary>
    public int InFlightCount
    {
        get
        {
            lock (_lock)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>This queue's instruments (set by the server before <see cref="StartAsync"/>); null records nothing.</summary>
    internal QueueMetrics? Metrics { get; set; }

    /// <summary>Called after each attempt with the queue id and the next attempt time (null when the message is done). For tests and metrics.</summary>
    internal Action<string, DateTimeOffset?>? AttemptFinished { get; set; }

    /// <summary>Loads every stored message and starts the scheduler; past due times are attempted now.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_shared is not null)
        {
            // Nothing to load: the schedule lives in the shared storage. Without a relay
            // (--no-relay) this process only stores, and workers deliver.
            if (_relay is not null)
            {
                _loop = Task.Run(() => RunSharedLoopAsync(_shared, _stopScheduling.Token), CancellationToken.None);
                _renewLoop = Task.Run(() => RunRenewLoopAsync(_shared, _stopRenewing.Token), CancellationToken.None);
            }
            return;
        }
        if (_relay is not null)
        {
            int count = 0;
            await foreach (var item in _storage.LoadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                // Held messages (slimta queue hold) wait for a release, outside the schedule.
                if (IsHeld(item.NextAttempt))
                {
                    MarkHeld(item.Id);
                }
                else
                {
                    Schedule(item.Id, item.NextAttempt);
                }
                count++;
            }
            if (count > 0)
            {
                _log.LogInformation("queue={Queue} loaded {Count} stored messages", Name, count);
            }
        }
        _loop = Task.Run(() => RunSchedulerAsync(_stopScheduling.Token), CancellationToken.None);
    }

    /// <summary>
    /// Stops scheduling new attempts and waits for running ones until <paramref name="cancellationToken"/>
    /// fires; then cancels them. A cancelled attempt leaves its message stored as it was, so it is
    /// attempted again after a restart (at-least-once).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopScheduling.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        var running = _running.Values.ToArray();
        try
        {
            await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await _abortAttempts.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_running.Values.ToArray()).ConfigureAwait(false);
        }
        await _stopRenewing.CancelAsync().ConfigureAwait(false);
        if (_renewLoop is not null)
        {
            await _renewLoop.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_stopScheduling.IsCancellationRequested)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }
        _stopScheduling.Dispose();
        _abortAttempts.Dispose();
        _stopRenewing.Dispose();
        _wake.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<QueueResult>> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        envelope.Id ??= QueueId.New();
        IReadOnlyList<Envelope> envelopes;
        try
        {
            envelopes = await ApplyPoliciesAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        catch (QueuePolicyRejectedException e)
        {
            // A policy refused the message for good (a DMARC p=reject failure, say): the client gets
            // the policy's 5xx reply, and the sender's MTA bounces it, not us (no backscatter).
            _log.LogInformation("queue={Queue} id={Id} refused by a queue policy: {Reply}", Name, envelope.Id, e.Reply);
            return [QueueResult.Failed(envelope, e.Reply)];
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.LogError(e, "queue={Queue} id={Id} a queue policy failed; message refused with 451", Name, envelope.Id);
            return [QueueResult.Failed(envelope, new Reply(451, "4.3.0", "Message refused by a queue policy, try again later"))];
        }
        if (envelopes.Count == 0)
        {
            // A policy consumed the message (nothing left to deliver): it is accepted, not stored.
            _log.LogInformation("queue={Queue} id={Id} accepted, no envelope left after policies", Name, envelope.Id);
            return [QueueResult.Accepted(envelope, envelope.Id)];
        }

        var now = _time.GetUtcNow();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var results = new QueueResult[envelopes.Count];
        bool allStored = true;
        for (int i = 0; i < envelopes.Count; i++)
        {
            var e = envelopes[i];
            if (e.Id is null || !ids.Add(e.Id))
            {
                e.Id = QueueId.New();
                ids.Add(e.Id);
            }
            try
            {
                await _storage.WriteAsync(e.Id, e, now, cancellationToken).ConfigureAwait(false);
                results[i] = QueueResult.Accepted(e, e.Id);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A full disk is RFC 5321 §4.2.2's 452 "insufficient system storage" (RFC 3463 4.3.1
                // "mail system full"); every other storage failure is a local error, 451 4.3.0.
                bool full = IsStorageFull(ex);
                _log.LogError(ex, "queue={Queue} id={Id} could not be stored; refused with {Code}", Name, e.Id, full ? 452 : 451);
                results[i] = QueueResult.Failed(e, full
                    ? new Reply(452, "4.3.1", "Insufficient system storage, try again later")
                    : new Reply(451, "4.3.0", "Queue storage unavailable, try again later"));
                allStored = false;
                break;
            }
        }

        if (!allStored)
        {
            // The client will be told 451 and send again: take back the parts already stored so
            // the retry does not deliver them twice (best effort; at worst a duplicate).
            for (int i = 0; i < results.Length; i++)
            {
                if (results[i] is { IsAccepted: true, Id: { } id })
                {
                    try
                    {
                        await _storage.RemoveAsync(id, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        _log.LogWarning(ex, "queue={Queue} id={Id} could not be taken back after a failed split", Name, id);
                    }
                }
                results[i] ??= QueueResult.Failed(envelopes[i], new Reply(451, "4.3.0", "Queue storage unavailable, try again later"));
            }
            var failure = results.First(r => !r.IsAccepted);
            return results.Select(r => r.IsAccepted ? QueueResult.Failed(r.Envelope, failure.Reply!) : r).ToArray();
        }

        Metrics?.Accepted(results.Length);
        bool logAccepted = _log.IsEnabled(LogLevel.Information);
        foreach (var r in results)
        {
            if (logAccepted)
            {
                _log.Accepted(Name, r.Id!, r.Envelope.Sender, r.Envelope.Recipients.Count, r.Envelope.Message.Length, r.Envelope.Client.Address?.ToString());
            }
            if (_relay is not null)
            {
                if (_shared is null)
                {
                    Schedule(r.Id!, now);
                }
                else
                {
                    // The storage made it claimable for every worker; claim sooner here.
                    Wake();
                }
            }
        }
        return results;
    }

    /// <summary>
    /// True for ENOSPC (28) or EDQUOT (122): .NET reports the errno as the HResult of the
    /// <see cref="IOException"/> on Unix (ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows).
    /// </summary>
    private static bool IsStorageFull(Exception ex)
    {
        for (Exception? x = ex; x is not null; x = x.InnerException)
        {
            if (x is IOException { HResult: 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027) })
            {
                return true;
            }
        }
        return false;
    }

    private ValueTask<IReadOnlyList<Envelope>> ApplyPoliciesAsync(Envelope envelope, CancellationToken cancellationToken) =>
        _policies.Count == 0 ? new ValueTask<IReadOnlyList<Envelope>>([envelope]) : new ValueTask<IReadOnlyList<Envelope>>(RunPoliciesAsync(envelope, cancellationToken));

    private async Task<IReadOnlyList<Envelope>> RunPoliciesAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        IReadOnlyList<Envelope> current = [envelope];
        foreach (var policy in _policies)
        {
            var next = new List<Envelope>(current.Count);
            foreach (var e in current)
            {
                var replaced = await policy.ApplyAsync(e, cancellationToken).ConfigureAwait(false);
                if (replaced is null)
                {
                    next.Add(e);
                }
                else
                {
                    next.AddRange(replaced);
                }
            }
            current = next;
        }
        return current;
    }

    private void Schedule(string id, DateTimeOffset when)
    {
        lock (_lock)
        {
            _scheduled[id] = when;
            _due.Enqueue(id, when);
        }
        Wake();
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the scheduler will look again anyway.
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    private async Task RunSchedulerAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan? wait = null;
            DateTimeOffset due = default;
            List<string>? start = null;
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                while (_due.TryPeek(out var id, out var when))
                {
                    if (!_scheduled.TryGetValue(id, out var current) || current != when || _inFlight.Contains(id))
                    {
                        // A stale entry: the message was rescheduled (a newer entry exists) or is running.
                        _due.Dequeue();
                        continue;
                    }
                    if (when > now)
                    {
                        wait = when - now;
                        due = when;
                        break;
                    }
                    if (_inFlight.Count >= _maxConcurrentAttempts)
                    {
                        // Full: an attempt finishing wakes us.
                        wait = null;
                        _waitingForSlot = true;
                        break;
                    }
                    _due.Dequeue();
                    _scheduled.Remove(id);
                    _inFlight.Add(id);
                    (start ??= []).Add(id);
                }
            }

            if (start is not null)
            {
                foreach (var id in start)
                {
                    _running[id] = RunAttemptAsync(id);
                }
                continue;
            }

            try
            {
                await WaitAsync(wait, due, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WaitAsync(TimeSpan? wait, DateTimeOffset due, CancellationToken cancellationToken)
    {
        if (wait is null)
        {
            await _wake.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(wait.Value, _time, cts.Token);
        // The clock may have moved between reading it and creating the timer (a fake clock in
        // tests jumps; a real one just ticks): a timer created late would fire late, so look again.
        if (_time.GetUtcNow() >= due)
        {
            await cts.CancelAsync().ConfigureAwait(false);
            return;
        }
        var signal = _wake.WaitAsync(cts.Token);
        await Task.WhenAny(delay, signal).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task RunAttemptAsync(string id)
    {
        // Leave the scheduler's thread at once: the attempt runs on the thread pool.
        await Task.Yield();
        DateTimeOffset? next = null;
        try
        {
            next = await AttemptAsync(id, null, _abortAttempts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abortAttempts.IsCancellationRequested)
        {
            // Shutdown: the message stays stored as it was and is attempted after a restart.
        }
        catch (Exception e)
        {
            next = _time.GetUtcNow() + StorageErrorDelay;
            _log.LogError(e, "queue={Queue} id={Id} attempt failed in the queue itself; trying again at {Next:O}", Name, id, next);
        }
        finally
        {
            bool wake;
            lock (_lock)
            {
                _inFlight.Remove(id);
                if (next is { } when && !_stopScheduling.IsCancellationRequested)
                {
                    _scheduled[id] = when;
                    _due.Enqueue(id, when);
                }
                // The scheduler needs to hear of this attempt only when it waits for a free slot
                // or the message has a new due time; a wake-up for nothing is a thread-pool round
                // (and often a context switch) per delivered message.
                wake = next is not null || _waitingForSlot;
                _waitingForSlot = false;
            }
            _running.TryRemove(id, out _);
            if (wake)
            {
                Wake();
            }
            AttemptFinished?.Invoke(id, next);
        }
    }

    private async Task RunSharedLoopAsync(ISharedQueueStorage shared, CancellationToken cancellationToken)
    {
        var errorDelay = TimeSpan.FromMilliseconds(250);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                bool full;
                lock (_lock)
                {
                    full = _inFlight.Count >= _maxConcurrentAttempts;
                }
                if (full)
                {
                    // An attempt finishing wakes us.
                    await _wake.WaitAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
                StoredMessage? claimed;
                try
                {
                    claimed = await shared.ClaimNextDueAsync(_workerId, shared.Lease, cancellationToken).ConfigureAwait(false);
                    errorDelay = TimeSpan.FromMilliseconds(250);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The storage is down (Redis restarting): nothing is lost, it is all in the
                    // storage; try again with a growing pause so a long outage is not hammered.
                    _log.LogWarning("queue={Queue} could not claim work: {Message}; trying again in {Delay}", Name, e.Message, errorDelay);
                    await Task.Delay(errorDelay, _time, cancellationToken).ConfigureAwait(false);
                    errorDelay = TimeSpan.FromTicks(Math.Min(errorDelay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                    continue;
                }
                if (claimed is null)
                {
                    await WaitForSharedWorkAsync(shared, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (IsHeld(claimed.NextAttempt))
                {
                    // Held while still new (a storage may hand out new messages before their
                    // next-attempt time): put it back on its far-future schedule, unattempted.
                    await SettleAsync(() => shared.SetNextAttemptAsync(claimed.Id, claimed.NextAttempt, CancellationToken.None), claimed.Id, "hold").ConfigureAwait(false);
                    continue;
                }
                lock (_lock)
                {
                    if (!_inFlight.Add(claimed.Id))
                    {
                        // Claimed again while our own attempt still runs (our renewal failed and
                        // the lease ran out): that attempt finishes and settles the message.
                        continue;
                    }
                }
                _running[claimed.Id] = RunSharedAttemptAsync(shared, claimed);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task WaitForSharedWorkAsync(ISharedQueueStorage shared, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var storage = shared.WaitForWorkAsync(SharedPollInterval, cts.Token).AsTask();
        var local = _wake.WaitAsync(cts.Token);
        await Task.WhenAny(storage, local).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(storage, local).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The other wait was cancelled above.
        }
        catch (Exception e)
        {
            _log.LogDebug(e, "queue={Queue} wait for work failed", Name);
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task RunSharedAttemptAsync(ISharedQueueStorage shared, StoredMessage claimed)
    {
        await Task.Yield();
        string id = claimed.Id;
        DateTimeOffset? next = null;
        try
        {
            try
            {
                // AttemptAsync settles the message in the storage itself: RemoveAsync when done,
                // SetNextAttemptAsync (which releases the claim) when it is retried.
                next = await AttemptAsync(id, claimed, _abortAttempts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_abortAttempts.IsCancellationRequested)
            {
                // Shutdown: hand the message back at once rather than after the lease.
                await SettleAsync(() => shared.ReleaseAsync(id, _workerId, CancellationToken.None), id, "release").ConfigureAwait(false);
            }
            catch (Exception e)
            {
                next = _time.GetUtcNow() + StorageErrorDelay;
                _log.LogError(e, "queue={Queue} id={Id} attempt failed in the queue itself; trying again at {Next:O}", Name, id, next);
                var when = next.Value;
                // If this fails too (storage down), the claim expires and another worker takes over.
                await SettleAsync(() => shared.SetNextAttemptAsync(id, when, CancellationToken.None), id, "reschedule").ConfigureAwait(false);
            }
        }
        finally
        {
            lock (_lock)
            {
                _inFlight.Remove(id);
            }
            _running.TryRemove(id, out _);
            Wake();
            AttemptFinished?.Invoke(id, next);
        }
    }

    private async Task SettleAsync(Func<ValueTask> action, string id, string what)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogWarning("queue={Queue} id={Id} could not {What} the claim ({Message}); it is taken over after the lease", Name, id, what, e.Message);
        }
    }

    /// <summary>
    /// Renews the claims of running attempts three times per lease, so a slow attempt keeps its
    /// message and no other worker delivers it concurrently.
    /// </summary>
    private async Task RunRenewLoopAsync(ISharedQueueStorage shared, CancellationToken cancellationToken)
    {
        var interval = shared.Lease / 3;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            string[] ids;
            lock (_lock)
            {
                ids = [.. _inFlight];
            }
            foreach (var id in ids)
            {
                try
                {
                    if (!await shared.RenewAsync(id, _workerId, shared.Lease, cancellationToken).ConfigureAwait(false))
                    {
                        // Settled meanwhile (normal), or the lease ran out while the storage
                        // was unreachable and another worker took over (a possible duplicate).
                        bool running;
                        lock (_lock)
                        {
                            running = _inFlight.Contains(id);
                        }
                        if (running)
                        {
                            _log.LogWarning("queue={Queue} id={Id} claim could not be renewed: another worker may attempt it too", Name, id);
                        }
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    _log.LogWarning("queue={Queue} id={Id} claim renewal failed: {Message}", Name, id, e.Message);
                }
            }
        }
    }

    /// <summary>One delivery attempt; returns the next attempt time, or null when the message is done.</summary>
    private async Task<DateTimeOffset?> AttemptAsync(string id, StoredMessage? claimed, CancellationToken cancellationToken)
    {
        var stored = claimed ?? await _storage.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }
        var original = stored.Envelope;
        var pending = new List<int>(original.Recipients.Count);
        for (int i = 0; i < original.Recipients.Count; i++)
        {
            if (!stored.Delivered.Contains(i))
            {
                pending.Add(i);
            }
        }
        if (pending.Count == 0)
        {
            await _storage.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
            return null;
        }

        // Usually nobody was delivered yet: the copy takes the recipient list as it is.
        var attempt = pending.Count == original.Recipients.Count
            ? original.Copy()
            : original.CopyWithRecipients(PendingRecipients(original, pending));
        attempt.Id = id;
        int attemptNumber = stored.Attempts + 1;
        _log.Attempt(Name, id, attemptNumber, pending.Count);
        var result = await RelayAsync(attempt, stored.Attempts, cancellationToken).ConfigureAwait(false);

        var now = _time.GetUtcNow();
        var delivered = new List<int>();
        var transient = new List<(int Index, Reply Reply)>();
        var permanent = new List<(int Index, Reply Reply)>();
        for (int k = 0; k < pending.Count; k++)
        {
            var r = result.Recipients[k];
            switch (r.Outcome)
            {
                case DeliveryOutcome.Delivered:
                    delivered.Add(pending[k]);
                    break;
                case DeliveryOutcome.TransientFailure:
                    transient.Add((pending[k], r.Reply));
                    break;
                default:
                    permanent.Add((pending[k], r.Reply));
                    break;
            }
        }

        // Accept → delivered, for the latency histogram; unknown for an envelope without ReceivedAt.
        TimeSpan? latency = original.ReceivedAt == default ? null : now - original.ReceivedAt;
        bool logInfo = _log.IsEnabled(LogLevel.Information);
        foreach (int i in delivered)
        {
            Metrics?.Delivered(latency);
            if (logInfo)
            {
                _log.Delivered(Name, id, original.Recipients[i], result.RemoteHost, result.Recipients[pending.IndexOf(i)].Reply.ToString(), attemptNumber, latency is { } l ? (long)l.TotalMilliseconds : null);
            }
        }
        if (Metrics is { } metrics && (transient.Count > 0 || permanent.Count > 0))
        {
            CountRelayErrors(metrics, transient, permanent);
        }

        DateTimeOffset? next = null;
        if (transient.Count > 0)
        {
            int attempts = await _storage.IncrementAttemptsAsync(id, cancellationToken).ConfigureAwait(false);
            if (_retry is null || attempts > _retry.Maximum)
            {
                foreach (var (index, reply) in transient)
                {
                    permanent.Add((index, reply with { Text = reply.Text + " (too many retries)" }));
                }
                transient.Clear();
            }
            else
            {
                next = now + _retry.DelayAfter(attempts);
                Metrics?.Deferred(transient.Count);
                foreach (var (index, reply) in transient)
                {
                    if (logInfo)
                    {
                        _log.Deferred(Name, id, original.Recipients[index], result.RemoteHost, reply.ToString(), attemptNumber, next.Value);
                    }
                }
                if (DelayNoticeDue(original, stored, now))
                {
                    await SendDelayNoticeAsync(id, original, transient, result.RemoteHost, attempts, now, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        var done = new List<int>(delivered);
        bool bouncesFailed = false;
        if (permanent.Count > 0)
        {
            var bounced = await BounceAsync(id, original, permanent, result.RemoteHost, attemptNumber, cancellationToken).ConfigureAwait(false);
            done.AddRange(bounced);
            bouncesFailed = bounced.Count < permanent.Count;
        }

        if (stored.Delivered.Count + done.Count == original.Recipients.Count)
        {
            await _storage.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
            return null;
        }
        if (done.Count > 0)
        {
            await _storage.SetRecipientsDeliveredAsync(id, done, cancellationToken).ConfigureAwait(false);
        }
        if (bouncesFailed)
        {
            // Nothing is dropped: the failed recipients stay pending and the bounce is tried again.
            var retryAt = now + (_retry?.DelayAfter(Math.Max(1, stored.Attempts)) ?? TimeSpan.FromMinutes(5));
            next = next is null || retryAt < next ? retryAt : next;
        }
        if (next is { } when)
        {
            await _storage.SetNextAttemptAsync(id, when, cancellationToken).ConfigureAwait(false);
        }
        return next;
    }

    private static List<string> PendingRecipients(Envelope original, List<int> pending)
    {
        var recipients = new List<string>(pending.Count);
        foreach (int i in pending)
        {
            recipients.Add(original.Recipients[i]);
        }
        return recipients;
    }

    private async Task<RelayResult> RelayAsync(Envelope attempt, int attempts, CancellationToken cancellationToken)
    {
        try
        {
            int count = attempt.Recipients.Count;
            var result = await _relay!.AttemptAsync(attempt, attempts, cancellationToken).ConfigureAwait(false);
            if (result.Recipients.Count != count)
            {
                throw new InvalidOperationException($"the relay returned {result.Recipients.Count} results for {count} recipients");
            }
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // A relay that throws is a transient failure of every recipient: retried, never lost.
            _log.RelayError(e, Name, attempt.Id!, "transient");
            return RelayResult.Transient(attempt.Recipients.Count, new Reply(451, "4.3.0", "Delivery failed: " + e.Message));
        }
    }

    /// <summary>
    /// <c>slimta.relay.errors</c>: one count per class present in this attempt (a connection
    /// failure for 50 recipients is one error, not 50). No allocation: the lists are walked once.
    /// </summary>
    private static void CountRelayErrors(QueueMetrics metrics, List<(int Index, Reply Reply)> transient, List<(int Index, Reply Reply)> permanent)
    {
        bool connect = false, temporary = false, final = false;
        foreach (var list in (ReadOnlySpan<List<(int Index, Reply Reply)>>)[transient, permanent])
        {
            foreach (var (_, reply) in list)
            {
                switch (QueueMetrics.Classify(reply))
                {
                    case RelayErrorClass.Connect:
                        connect = true;
                        break;
                    case RelayErrorClass.Transient:
                        temporary = true;
                        break;
                    default:
                        final = true;
                        break;
                }
            }
        }
        if (connect)
        {
            metrics.RelayError(RelayErrorClass.Connect);
        }
        if (temporary)
        {
            metrics.RelayError(RelayErrorClass.Transient);
        }
        if (final)
        {
            metrics.RelayError(RelayErrorClass.Permanent);
        }
    }

    /// <summary>
    /// True when this attempt (which failed transiently and will be retried) is the one that sends
    /// the delay notice: the first attempt that ends at or after <c>ReceivedAt + delay_notice</c>.
    /// No flag is stored (the storage contract has none): the end of the previous attempt is
    /// recomputed, because the engine stored <c>NextAttempt = end of that attempt + delay(attempts)</c>
    /// and the delay expression is a pure function of the attempt count. So exactly one attempt
    /// sees "previous end before the threshold, this end at or after it". A crash after the
    /// notice and before the next-attempt time is stored may repeat it (at-least-once, like delivery);
    /// changing <c>retry.delay</c> while messages wait may repeat or skip one.
    /// </summary>
    private bool DelayNoticeDue(Envelope original, StoredMessage stored, DateTimeOffset now)
    {
        if (_bounces.Settings.DelayNotice is not { } delay || original.IsNullSender || original.ReceivedAt == default || _retry is null)
        {
            return false;
        }
        var threshold = original.ReceivedAt + delay;
        if (now < threshold)
        {
            return false;
        }
        if (stored.Attempts == 0)
        {
            return true;
        }
        var previousEnd = stored.NextAttempt - _retry.DelayAfter(stored.Attempts);
        return previousEnd < threshold;
    }

    /// <summary>
    /// One delay notice (RFC 3464 <c>Action: delayed</c>) for every recipient still being retried.
    /// Best effort: a notice that cannot be queued is logged, never retried, and never holds up the message.
    /// </summary>
    private async Task SendDelayNoticeAsync(string id, Envelope original, List<(int Index, Reply Reply)> transient, string? remoteHost, int attempts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The last retry happens after the delays for attempts .. maximum (see AttemptAsync). An
        // estimate (attempts take time); left out for a maximum so large that summing would be slow.
        DateTimeOffset? until = null;
        if (_retry!.Maximum - attempts <= 1000)
        {
            var sum = TimeSpan.Zero;
            for (int a = attempts; a <= _retry.Maximum; a++)
            {
                sum += _retry.DelayAfter(a);
            }
            until = sum < DateTimeOffset.MaxValue - now ? now + sum : null;
        }
        var delayed = transient.Select(t => new FailedRecipient(original.Recipients[t.Index], t.Reply, remoteHost)).ToList();
        var notice = _bounces.BuildDelayNotice(original, id, delayed, until);
        if (notice is null)
        {
            return;
        }
        try
        {
            var results = await (BounceQueue ?? this).EnqueueAsync(notice, cancellationToken).ConfigureAwait(false);
            if (results.All(r => r.IsAccepted))
            {
                _log.DelayNotice(Name, id, original.Sender, results[0].Id);
            }
            else
            {
                _log.LogError("queue={Queue} id={Id} delay notice refused by the bounce queue: {Reply}", Name, id, results.First(r => !r.IsAccepted).Reply);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.LogError(e, "queue={Queue} id={Id} delay notice could not be queued", Name, id);
        }
    }

    /// <summary>Bounces permanent failures, one bounce per distinct reply. Returns the recipient indexes whose bounce was queued.</summary>
    private async Task<List<int>> BounceAsync(string id, Envelope original, List<(int Index, Reply Reply)> permanent, string? remoteHost, int attempt, CancellationToken cancellationToken)
    {
        Metrics?.Bounced(permanent.Count);
        if (_log.IsEnabled(LogLevel.Information))
        {
            foreach (var (index, reply) in permanent)
            {
                _log.Failed(Name, id, original.Recipients[index], remoteHost, reply.ToString(), attempt);
            }
        }
        if (original.IsNullSender)
        {
            _log.BounceSkipped(Name, id, permanent.Count);
            return permanent.Select(p => p.Index).ToList();
        }
        var bounced = new List<int>(permanent.Count);
        var target = BounceQueue ?? this;
        foreach (var group in permanent.GroupBy(p => p.Reply))
        {
            var failed = group.Select(p => new FailedRecipient(original.Recipients[p.Index], p.Reply, remoteHost)).ToList();
            var bounce = _bounces.Build(original, id, failed)!;
            try
            {
                var results = await target.EnqueueAsync(bounce, cancellationToken).ConfigureAwait(false);
                if (!results.All(r => r.IsAccepted))
                {
                    _log.LogError("queue={Queue} id={Id} bounce refused by the bounce queue: {Reply}", Name, id, results.First(r => !r.IsAccepted).Reply);
                    continue;
                }
                int before = bounced.Count;
                bounced.AddRange(group.Select(p => p.Index));
                _log.Bounced(Name, id, original.Sender, results[0].Id, bounced.Count - before);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogError(e, "queue={Queue} id={Id} bounce could not be queued", Name, id);
            }
        }
        return bounced;
    }
}
