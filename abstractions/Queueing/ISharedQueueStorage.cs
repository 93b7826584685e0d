namespace Slimta.Abstractions.Queueing;

/// <summary>
/// An optional extension of <see cref="IQueueStorage"/> for storages that several processes (edges
/// and <c>slimta-worker</c>s, possibly on different machines) share. When a queue's storage
/// implements it, the host's queue engine keeps no schedule of its own: every due message is
/// claimed from the storage, so each message is attempted by one worker at a time and a retry
/// delayed by one process is visible to all of them.
/// <para>
/// Claims are leases: a claim that is neither renewed nor released before it expires is taken
/// over by the next <see cref="ClaimNextDueAsync"/> of any worker (the worker that held it is
/// presumed dead). Delivery stays at-least-once: a worker that dies after delivering but before
/// removing the message causes a duplicate, never a loss.
/// </para>
/// <para>
/// Of the <see cref="IQueueStorage"/> methods, <see cref="IQueueStorage.WriteAsync"/> must make the
/// message claimable (due at its next-attempt time), <see cref="IQueueStorage.SetNextAttemptAsync"/>
/// must schedule it for that time AND release any claim on it, and
/// <see cref="IQueueStorage.RemoveAsync"/> must drop any claim with the message.
/// </para>
/// </summary>
public interface ISharedQueueStorage : IQueueStorage
{
    /// <summary>The claim lease the storage was configured with (how long a dead worker's claims stay blocked).</summary>
    TimeSpan Lease { get; }

    /// <summary>
    /// Atomically takes one message that is due now (new, due for a retry, or whose claim expired)
    /// and claims it for <paramref name="workerId"/> until now + <paramref name="lease"/>.
    /// Returns null when nothing is due.
    /// </summary>
    ValueTask<StoredMessage?> ClaimNextDueAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Extends the claim of <paramref name="workerId"/> on <paramref name="id"/> to now + <paramref name="lease"/>.
    /// Returns false when the worker no longer holds the claim (it expired and was taken over, or the message is gone).
    /// </summary>
    ValueTask<bool> RenewAsync(string id, string workerId, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a claim back without an attempt (shutdown): the message is due again at once for
    /// every worker. Does nothing when <paramref name="workerId"/> does not hold the claim.
    /// </summary>
    ValueTask ReleaseAsync(string id, string workerId, CancellationToken cancellationToken);

    /// <summary>
    /// Waits until new work may have arrived (a message written by any process) or
    /// <paramref name="maxWait"/> has passed, whichever is first. A spurious early return is allowed;
    /// callers claim after it returns. Lets idle workers wait without polling the storage hard.
    /// </summary>
    ValueTask WaitForWorkAsync(TimeSpan maxWait, CancellationToken cancellationToken);
}
