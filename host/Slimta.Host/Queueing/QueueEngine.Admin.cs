using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Queueing;

/// <summary>
/// The queue admin operations (<c>slimta queue …</c>), run by the control socket against the
/// running engine, or offline against an engine over the storage that was never started.
/// <para>
/// Decisions (docs/operations.md "Queue admin"): hold is a next attempt at the far-future
/// sentinel <see cref="HeldUntil"/>, so every storage supports it without a new interface and a
/// restart keeps it; release and flush make a message due now; bounce sends the RFC 3464 report
/// for every pending recipient ("deleted by the administrator") through the bounce queue and then
/// removes the message; delete removes it silently. A message whose attempt is running in this
/// process is refused (try again in a moment) rather than changed under the attempt. With a
/// process-local storage the engine's in-memory schedule is updated under its lock together with
/// the storage, so the scheduler never starts an attempt of a message being held, deleted or
/// bounced. A shared storage (redis) is changed in the storage only; a message another worker
/// has claimed right now is not visible as running here (see the docs).
/// </para>
/// </summary>
public sealed partial class QueueEngine
{
    /// <summary>The next-attempt time of a held message: never due.</summary>
    public static readonly DateTimeOffset HeldUntil = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The reply a bounce by the administrator reports (RFC 3463 5.0.0: other or undefined status).</summary>
    public static readonly Reply DeletedByAdministrator = new(550, "5.0.0", "Message deleted by the administrator");

    /// <summary>Held messages (only tracked when this engine keeps its own schedule).</summary>
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);

    /// <summary>True for a next-attempt time that means "held".</summary>
    public static bool IsHeld(DateTimeOffset nextAttempt) => nextAttempt >= HeldUntil;

    /// <summary>Held messages known to this engine's schedule (process-local storages with a relay).</summary>
    public int HeldCount
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>True when this engine keeps its own in-memory schedule (a process-local storage it delivers from).</summary>
    private bool KeepsSchedule => _relay is not null && _shared is null;

    /// <summary>
    /// Every message of the queue with its state, in storage order. <paramref name="onTotal"/> is
    /// told the count before the first entry (for a progress display). Messages that disappear
    /// while listing (delivered meanwhile) are left out.
    /// </summary>
    public async IAsyncEnumerable<QueueEntry> ListAsync(Action<int>? onTotal, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ids = await ListIdsAsync(cancellationToken).ConfigureAwait(false);
        onTotal?.Invoke(ids.Count);
        foreach (var item in ids)
        {
            var entry = await GetEntryAsync(item.Id, cancellationToken).ConfigureAwait(false);
            if (entry is not null)
            {
                yield return entry;
            }
        }
    }

    /// <summary>One message with its state, or null when the queue does not hold it.</summary>
    public async ValueTask<QueueEntry?> GetEntryAsync(string id, CancellationToken cancellationToken)
    {
        if (!QueueIdLooksValid(id))
        {
            throw new QueueAdminException($"'{id}' is not a queue id");
        }
        var stored = await _storage.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return stored is null ? null : ToEntry(stored);
    }

    /// <summary>Holds a message: it is not attempted until released (also across restarts).</summary>
    public async Task<QueueEntry> HoldAsync(string id, CancellationToken cancellationToken)
    {
        var stored = await RequireAsync(id, cancellationToken).ConfigureAwait(false);
        bool wasScheduled;
        DateTimeOffset when;
        lock (_lock)
        {
            ThrowIfRunning(id);
            wasScheduled = _scheduled.Remove(id, out when);
            if (KeepsSchedule)
            {
                _held.Add(id);
            }
        }
        try
        {
            await _storage.SetNextAttemptAsync(id, HeldUntil, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                _held.Remove(id);
            }
            if (wasScheduled)
            {
                Schedule(id, when);
            }
            throw await FailureAsync(id, "hold", e, cancellationToken).ConfigureAwait(false);
        }
        _log.LogInformation("queue={Queue} id={Id} held by the administrator", Name, id);
        return ToEntry(stored with { NextAttempt = HeldUntil });
    }

    /// <summary>Releases a held message: it is due now. Releasing a message that is not held makes it due now too.</summary>
    public Task<QueueEntry> ReleaseAsync(string id, CancellationToken cancellationToken) =>
        MakeDueAsync(id, allowHeld: true, "released", cancellationToken);

    /// <summary>Makes one message due now (a held one is refused: release it).</summary>
    public Task<QueueEntry> FlushAsync(string id, CancellationToken cancellationToken) =>
        MakeDueAsync(id, allowHeld: false, "flushed", cancellationToken);

    /// <summary>
    /// Makes every message that waits for a later attempt due now; held and running messages are
    /// left alone. Returns how many were changed. <paramref name="progress"/> gets (done, total).
    /// </summary>
    public async Task<int> FlushAllAsync(Func<int, int, ValueTask>? progress, CancellationToken cancellationToken)
    {
        var ids = await ListIdsAsync(cancellationToken).ConfigureAwait(false);
        int done = 0, changed = 0;
        foreach (var item in ids)
        {
            done++;
            var now = _time.GetUtcNow();
            bool skip;
            lock (_lock)
            {
                var next = _scheduled.TryGetValue(item.Id, out var scheduled) ? scheduled : item.NextAttempt;
                // Already due ones are left alone: in a shared storage they may be claimed by a
                // worker right now, and a reschedule would release that claim.
                skip = IsHeld(item.NextAttempt) || _held.Contains(item.Id) || _inFlight.Contains(item.Id) || next <= now;
            }
            if (!skip)
            {
                try
                {
                    await _storage.SetNextAttemptAsync(item.Id, now, cancellationToken).ConfigureAwait(false);
                    Reschedule(item.Id, now);
                    changed++;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Gone meanwhile (delivered), or the storage failed: the others still go.
                    _log.LogDebug(e, "queue={Queue} id={Id} not flushed", Name, item.Id);
                }
            }
            if (progress is not null)
            {
                await progress(done, ids.Count).ConfigureAwait(false);
            }
        }
        _log.LogInformation("queue={Queue} flushed by the administrator: {Count} messages due now", Name, changed);
        return changed;
    }

    /// <summary>Removes a message without a bounce.</summary>
    public async Task<QueueEntry> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var stored = await RequireAsync(id, cancellationToken).ConfigureAwait(false);
        var taken = TakeOut(id);
        try
        {
            await _storage.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            PutBack(id, taken);
            throw await FailureAsync(id, "delete", e, cancellationToken).ConfigureAwait(false);
        }
        _log.LogInformation("queue={Queue} id={Id} deleted by the administrator from=<{Sender}> rcpts={Count}", Name, id, stored.Envelope.Sender, stored.Envelope.Recipients.Count - stored.Delivered.Count);
        return new QueueEntry(Name, stored, stored.NextAttempt, "deleted");
    }

    /// <summary>
    /// Bounces a message: an RFC 3464 failure report for every pending recipient goes to the
    /// sender through the bounce queue (none for the null sender), then the message is removed.
    /// Returns the entry and the bounce's queue id (null when no bounce was sent).
    /// </summary>
    public async Task<(QueueEntry Entry, string? BounceId)> BounceAsync(string id, CancellationToken cancellationToken)
    {
        var stored = await RequireAsync(id, cancellationToken).ConfigureAwait(false);
        var taken = TakeOut(id);
        string? bounceId = null;
        try
        {
            var original = stored.Envelope;
            var failed = original.Recipients
                .Where((_, i) => !stored.Delivered.Contains(i))
                .Select(r => new FailedRecipient(r, DeletedByAdministrator, null))
                .ToList();
            if (_bounces.Build(original, id, failed) is { } bounce)
            {
                var results = await (BounceQueue ?? this).EnqueueAsync(bounce, cancellationToken).ConfigureAwait(false);
                if (results.FirstOrDefault(r => !r.IsAccepted) is { } refused)
                {
                    throw new QueueAdminException($"{id}: the bounce queue refused the bounce ({refused.Reply}); the message is kept");
                }
                bounceId = results[0].Id;
            }
        }
        catch (Exception e)
        {
            PutBack(id, taken);
            throw e is QueueAdminException or OperationCanceledException ? e : new QueueAdminException($"{id}: the bounce could not be queued ({e.Message}); the message is kept", e);
        }
        try
        {
            await _storage.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            PutBack(id, taken);
            throw new QueueAdminException($"{id}: bounced (bounce {bounceId}) but could not be removed: {e.Message}", e);
        }
        // Counted like the engine's own bounces: one per recipient that failed for good.
        Metrics?.Bounced(stored.Envelope.Recipients.Count - stored.Delivered.Count);
        _log.LogInformation("queue={Queue} id={Id} bounced by the administrator to=<{Sender}> bounce_id={BounceId}", Name, id, stored.Envelope.Sender, bounceId ?? "-");
        return (new QueueEntry(Name, stored, stored.NextAttempt, "bounced"), bounceId);
    }

    /// <summary>
    /// SIGHUP: uses a new relay, policies, retry schedule and bounce settings from now on. Running
    /// attempts finish with what they started with. Whether a relay exists cannot change (the
    /// caller asks for a restart then).
    /// </summary>
    internal void Reconfigure(IRelay? relay, IReadOnlyList<IQueuePolicy> policies, RetrySchedule? retry, BounceBuilder bounces)
    {
        if ((relay is null) != (_relay is null))
        {
            throw new InvalidOperationException("a queue cannot gain or lose its relay without a restart");
        }
        _relay = relay;
        _policies = policies;
        _retry = retry;
        _bounces = bounces;
    }

    /// <summary>The relay in use (a reload disposes a replaced relay only when no engine uses it any more).</summary>
    internal IRelay? CurrentRelay => _relay;

    /// <summary>Completes when the attempts running now have finished (to dispose a relay replaced by a reload).</summary>
    internal Task RunningAttemptsAsync() => Task.WhenAll(_running.Values.ToArray());

    private void MarkHeld(string id)
    {
        lock (_lock)
        {
            _held.Add(id);
        }
    }

    /// <summary>
    /// The ids to list or flush. A running engine over a process-local storage answers from its
    /// own schedule: <see cref="IQueueStorage.LoadAllAsync"/> is a startup operation (the disk
    /// storage recovers the spool in it, which must not race with writes in progress). Shared
    /// storages list safely at any time; an engine that never started (offline) has the storage to itself.
    /// </summary>
    private async Task<List<ScheduledMessage>> ListIdsAsync(CancellationToken cancellationToken)
    {
        if (_shared is null && _loop is not null)
        {
            if (_relay is null)
            {
                throw new QueueAdminException($"queue {Name}: this process only stores (--no-relay) and keeps no list of its messages; stop it and use --storage");
            }
            var now = _time.GetUtcNow();
            lock (_lock)
            {
                return _scheduled.Select(s => new ScheduledMessage(s.Key, s.Value))
                    .Concat(_held.Select(id => new ScheduledMessage(id, HeldUntil)))
                    .Concat(_inFlight.Select(id => new ScheduledMessage(id, now)))
                    .OrderBy(m => m.NextAttempt)
                    .ThenBy(m => m.Id, StringComparer.Ordinal)
                    .ToList();
            }
        }
        var ids = new List<ScheduledMessage>();
        await foreach (var item in _storage.LoadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(item);
        }
        return ids;
    }

    private QueueEntry ToEntry(StoredMessage stored)
    {
        lock (_lock)
        {
            if (_inFlight.Contains(stored.Id))
            {
                return new QueueEntry(Name, stored, stored.NextAttempt, "running");
            }
            if (_held.Contains(stored.Id) || IsHeld(stored.NextAttempt))
            {
                return new QueueEntry(Name, stored, HeldUntil, "held");
            }
            var next = _scheduled.TryGetValue(stored.Id, out var when) ? when : stored.NextAttempt;
            return new QueueEntry(Name, stored, next, "queued");
        }
    }

    private async Task<StoredMessage> RequireAsync(string id, CancellationToken cancellationToken)
    {
        if (!QueueIdLooksValid(id))
        {
            throw new QueueAdminException($"'{id}' is not a queue id");
        }
        return await _storage.GetAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new QueueAdminException($"{id}: no such message in queue {Name}");
    }

    /// <summary>Queue ids are file names and key parts in storages: refuse anything else before it reaches one.</summary>
    private static bool QueueIdLooksValid(string id) =>
        id.Length is > 0 and <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && id[0] != '.';

    private void ThrowIfRunning(string id)
    {
        if (_inFlight.Contains(id))
        {
            throw new QueueAdminException($"{id}: a delivery attempt is running now; try again when it has ended");
        }
    }

    private async Task<QueueEntry> MakeDueAsync(string id, bool allowHeld, string what, CancellationToken cancellationToken)
    {
        var stored = await RequireAsync(id, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            ThrowIfRunning(id);
            if (!allowHeld && (_held.Contains(id) || IsHeld(stored.NextAttempt)))
            {
                throw new QueueAdminException($"{id}: the message is held; release it instead");
            }
        }
        var now = _time.GetUtcNow();
        try
        {
            await _storage.SetNextAttemptAsync(id, now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw await FailureAsync(id, what, e, cancellationToken).ConfigureAwait(false);
        }
        Reschedule(id, now);
        _log.LogInformation("queue={Queue} id={Id} {What} by the administrator: due now", Name, id, what);
        return new QueueEntry(Name, stored with { NextAttempt = now }, now, "queued");
    }

    /// <summary>Puts a message on the engine's schedule at <paramref name="when"/> (not held any more); nothing without a schedule.</summary>
    private void Reschedule(string id, DateTimeOffset when)
    {
        if (!KeepsSchedule)
        {
            return;
        }
        lock (_lock)
        {
            _held.Remove(id);
            if (_inFlight.Contains(id))
            {
                // The running attempt reschedules it when it ends.
                return;
            }
        }
        Schedule(id, when);
    }

    /// <summary>Takes a message off the schedule (so no attempt starts) before it is removed; refuses a running one.</summary>
    private (bool Scheduled, DateTimeOffset When, bool Held) TakeOut(string id)
    {
        lock (_lock)
        {
            ThrowIfRunning(id);
            bool scheduled = _scheduled.Remove(id, out var when);
            bool held = _held.Remove(id);
            return (scheduled, when, held);
        }
    }

    private void PutBack(string id, (bool Scheduled, DateTimeOffset When, bool Held) taken)
    {
        if (taken.Held)
        {
            MarkHeld(id);
        }
        if (taken.Scheduled)
        {
            Schedule(id, taken.When);
        }
    }

    /// <summary>Turns a storage failure into an operator message; a message gone meanwhile says so.</summary>
    private async Task<Exception> FailureAsync(string id, string what, Exception e, CancellationToken cancellationToken)
    {
        if (e is OperationCanceledException or QueueAdminException)
        {
            return e;
        }
        StoredMessage? now = null;
        try
        {
            now = await _storage.GetAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Reported below with the original failure.
        }
        return now is null
            ? new QueueAdminException($"{id}: no such message in queue {Name} (delivered meanwhile?)", e)
            : new QueueAdminException($"{id}: could not {what}: {e.Message}", e);
    }
}
