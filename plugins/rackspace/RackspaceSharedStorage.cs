using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The rackspace storage with <c>queue_name</c>: Cloud Files keeps the messages, Cloud Queues
/// hands them to workers. The mapping onto <see cref="ISharedQueueStorage"/> (docs/operations.md,
/// "Rackspace queue"):
/// <list type="bullet">
/// <item>Every stored message has one <b>notice</b> in the queue, <c>{timestamp, storage_id}</c>,
/// posted by <see cref="WriteAsync"/> after the object (so a notice never points at nothing that
/// was accepted). The object's <c>X-Object-Meta-Timestamp</c> is the truth about when the message is
/// due; the notice's timestamp is only what it was when posted (notices cannot be edited).</item>
/// <item><see cref="ClaimNextDueAsync"/> = <c>POST claims?limit=1</c> with ttl = the lease: one claim
/// per message, so renewing and releasing one message never touches another. The claimed notice's
/// object is read; when it is due the message is returned, still claimed. A notice whose object is
/// gone is deleted; a notice whose message is not due yet is <b>parked</b>: its claim is PATCHed to
/// last until the message is due (at most 12 h, then it is parked again), which hides it from every
/// worker until then. Claims are leases: one that is not renewed expires and the notice is free
/// for the next worker.</item>
/// <item><see cref="RenewAsync"/> = PATCH the claim (404: it expired). <see cref="ReleaseAsync"/> =
/// DELETE the claim. <see cref="SetNextAttemptAsync"/> = metadata update, then park the claim until
/// the new time (which also gives it up). <see cref="RemoveAsync"/> = DELETE the object, then the
/// notice by its href with <c>claim_id</c>.</item>
/// </list>
/// Cloud Queues' smallest claim ttl is 60 s, so the lease is at least 60 s and a retry due sooner
/// than 60 s from now is attempted up to 60 s late. A notice lives <c>notice_ttl</c> (at most 14
/// days) and every claim keeps it at least until the claim ends plus the grace; a notice that would
/// expire before its message is due is replaced by a fresh one when it is parked.
/// </summary>
internal sealed class RackspaceSharedStorage : RackspaceStorage, ISharedQueueStorage
{
    /// <summary>
    /// A notice that is not the one its message records is deleted only once it is older than
    /// this: a younger one may be a replacement whose poster has not recorded it yet (10 minutes,
    /// or longer when recording (HEAD, POST with their retries) may take longer).
    /// </summary>
    private TimeSpan UnrecordedGrace
    {
        get
        {
            var record = Settings.Timeout * (RackspaceTransport.MaxRetries + 1) * 3 * 2;
            return record > TimeSpan.FromMinutes(10) ? record : TimeSpan.FromMinutes(10);
        }
    }

    /// <summary>At most this many notices are looked at per claim call (parked or stale ones are skipped).</summary>
    private const int MaxNoticesPerClaim = 16;

    private readonly CloudQueuesClient _queues;
    private readonly Dictionary<string, HeldClaim> _claims = new(StringComparer.Ordinal);

    public RackspaceSharedStorage(RackspaceSettings settings, RackspaceTransport transport, RackspaceApi api, TimeProvider time, ILogger log)
        : base(settings, transport, api, time, log)
    {
        _queues = new CloudQueuesClient(api, settings.QueueName!);
    }

    /// <inheritdoc />
    public TimeSpan Lease => Settings.Lease;

    /// <summary>How many claims this process holds now (for tests).</summary>
    public int HeldClaims
    {
        get
        {
            lock (_claims)
            {
                return _claims.Count;
            }
        }
    }

    public override async ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        await base.WriteAsync(id, envelope, nextAttempt, cancellationToken).ConfigureAwait(false);
        try
        {
            await _queues.PostNoticeAsync(id, nextAttempt, Settings.NoticeTtl, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // No notice, no worker would ever see the object: take it back, the client gets 451
            // and sends again. If even that fails the object is an orphan (logged), never a loss.
            try
            {
                await Files.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception cleanup)
            {
                Log.LogWarning("queue={Queue} id={Id} notice failed ({Message}) and the object could not be deleted ({Cleanup}); it stays in container {Container} without a notice", Settings.Name, id, e.Message, cleanup.Message, Settings.ContainerName);
            }
            throw;
        }
    }

    public override async ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        var held = Take(id, workerId: null);
        if (held is null)
        {
            await RescheduleUnclaimedAsync(id, nextAttempt, cancellationToken).ConfigureAwait(false);
            return;
        }
        // The claimed notice is recorded as the message's valid one in the same metadata POST (no
        // extra call): a duplicate notice (a POST repeated after an ambiguous timeout) is then
        // dropped when claimed, instead of starting a second concurrent attempt at every retry.
        var claimedNotice = CloudQueuesClient.MessageIdOf(held.Notice.MessageHref);
        await UpdateAsync(id, m => m with { NextAttempt = nextAttempt, Notice = claimedNotice }, cancellationToken).ConfigureAwait(false);
        if (nextAttempt <= Time.GetUtcNow())
        {
            await _queues.ReleaseClaimAsync(held.Notice.ClaimHref, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ParkAsync(id, held.Notice, nextAttempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A new time for a message this process holds no claim on (an operator's hold, release or
    /// flush). A later time is only recorded: whoever claims the notice reads it and parks the
    /// notice. An earlier time than a recorded future one needs a new notice: the old one may be
    /// parked for up to 12 hours (a retry or a hold parked it), so the message would wait that
    /// long. The new notice is recorded as the valid one with the new time; the old one is deleted
    /// as a duplicate when it is claimed again. A message whose recorded time has passed may be
    /// claimed by a worker right now, so it gets no second notice (that would start a second attempt).
    /// </summary>
    private async Task RescheduleUnclaimedAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        var current = await Files.HeadAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No message with id '{id}' is stored.");
        if (nextAttempt >= current.NextAttempt || current.NextAttempt <= Time.GetUtcNow())
        {
            await base.SetNextAttemptAsync(id, nextAttempt, cancellationToken).ConfigureAwait(false);
            return;
        }
        // If recording fails, the new notice is the unrecorded one (deleted once old) and the old time stays.
        var href = await _queues.PostNoticeAsync(id, nextAttempt, Settings.NoticeTtl, cancellationToken).ConfigureAwait(false);
        var notice = CloudQueuesClient.MessageIdOf(href);
        await UpdateAsync(id, m => m with { NextAttempt = nextAttempt, Notice = notice }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Hides a claimed notice until <paramref name="due"/>: its claim is PATCHed to last until then
    /// (Cloud Queues caps a claim at 12 h; a longer wait is parked again by whoever claims it next).
    /// A notice that would expire before then (an old message near <c>notice_ttl</c>) is replaced
    /// by a fresh one instead, so a message never outlives its notice.
    /// </summary>
    private async Task ParkAsync(string id, ClaimedNotice notice, DateTimeOffset due, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        // Only when a fresh notice would really live longer (notice_ttl may be shorter than the wait:
        // then the claim's grace is what keeps the notice, and re-posting would not help).
        if (notice.Expires is { } expires && expires < due + TimeSpan.FromHours(1) && now + Settings.NoticeTtl > expires + TimeSpan.FromHours(1))
        {
            var href = await _queues.PostNoticeAsync(id, due, Settings.NoticeTtl, cancellationToken).ConfigureAwait(false);
            // Recorded as the valid notice: the message may already record the old one as valid
            // (after an operator's release), which would make the fresh one a duplicate.
            var fresh = CloudQueuesClient.MessageIdOf(href);
            await UpdateAsync(id, m => m with { Notice = fresh }, cancellationToken).ConfigureAwait(false);
            await _queues.DeleteMessageAsync(notice.MessageHref, cancellationToken).ConfigureAwait(false);
            return;
        }
        await _queues.UpdateClaimAsync(notice.ClaimHref, due - now, Settings.Grace, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask RemoveAsync(string id, CancellationToken cancellationToken)
    {
        var held = Take(id, workerId: null);
        // The object first: a notice without an object is cleaned up by the next claim, an object
        // without a notice would never be seen again.
        await base.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
        if (held is not null && !await _queues.DeleteMessageAsync(held.Notice.MessageHref, cancellationToken).ConfigureAwait(false))
        {
            Log.LogDebug("queue={Queue} id={Id} notice was claimed by another worker meanwhile; it drops it", Settings.Name, id);
        }
    }

    public async ValueTask<StoredMessage?> ClaimNextDueAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        for (int i = 0; i < MaxNoticesPerClaim; i++)
        {
            var notice = await _queues.ClaimAsync(lease, Settings.Grace, Time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (notice is null)
            {
                return null;
            }
            var stored = await InspectAsync(workerId, notice, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                return stored;
            }
        }
        return null;
    }

    /// <summary>Returns the claimed notice's message when it is due and keeps the claim; otherwise settles the notice and returns null.</summary>
    private async Task<StoredMessage?> InspectAsync(string workerId, ClaimedNotice notice, CancellationToken cancellationToken)
    {
        var id = notice.StorageId;
        if (id is null || id.Length == 0)
        {
            Log.LogWarning("queue={Queue} a message in Cloud Queues queue {QueueName} is not a slimta notice; deleted", Settings.Name, Settings.QueueName);
            await _queues.DeleteMessageAsync(notice.MessageHref, cancellationToken).ConfigureAwait(false);
            return null;
        }
        bool duplicate = false;
        lock (_claims)
        {
            if (_claims.TryGetValue(id, out var mine))
            {
                if (SameMessage(mine.Notice.MessageHref, notice.MessageHref))
                {
                    // Our own claim ran out (renewal failed) and we took the notice again: keep the
                    // new claim for the attempt that is still running, which settles the message.
                    _claims[id] = mine with { Notice = notice };
                    return null;
                }
                duplicate = true;
            }
        }
        if (duplicate)
        {
            // A second notice for a message already claimed here (a POST repeated after a timeout).
            await _queues.DeleteMessageAsync(notice.MessageHref, cancellationToken).ConfigureAwait(false);
            return null;
        }

        (byte[] Body, ObjectMetadata Meta)? got;
        try
        {
            got = await Files.GetAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            await ParkUnreadableAsync(id, notice, e, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch
        {
            await ReleaseQuietlyAsync(notice).ConfigureAwait(false);
            throw;
        }
        if (got is not { } g)
        {
            // The message was removed (delivered, or taken back after a failed write).
            await _queues.DeleteMessageAsync(notice.MessageHref, cancellationToken).ConfigureAwait(false);
            return null;
        }
        if (g.Meta.Notice is { } valid && !string.Equals(valid, CloudQueuesClient.MessageIdOf(notice.MessageHref), StringComparison.Ordinal))
        {
            if (notice.Age is not { } age || age < UnrecordedGrace)
            {
                // Maybe a replacement whose poster has not recorded it yet (a new notice is posted,
                // then recorded): deleting it now, and the old one when it comes back, would leave
                // the message with no notice at all. Look again after the shortest claim.
                await _queues.UpdateClaimAsync(notice.ClaimHref, TimeSpan.FromSeconds(RackspaceSettings.MinClaimSeconds), Settings.Grace, cancellationToken).ConfigureAwait(false);
                return null;
            }
            Log.LogDebug("queue={Queue} id={Id} notice replaced by a newer one; deleted", Settings.Name, id);
            await _queues.DeleteMessageAsync(notice.MessageHref, cancellationToken).ConfigureAwait(false);
            return null;
        }
        if (g.Meta.NextAttempt > Time.GetUtcNow())
        {
            await ParkAsync(id, notice, g.Meta.NextAttempt, cancellationToken).ConfigureAwait(false);
            return null;
        }
        StoredMessage stored;
        try
        {
            stored = ToStored(id, g.Body, g.Meta);
        }
        catch (InvalidDataException e)
        {
            await ParkUnreadableAsync(id, notice, e, cancellationToken).ConfigureAwait(false);
            return null;
        }
        lock (_claims)
        {
            _claims[id] = new HeldClaim(workerId, notice);
        }
        return stored;
    }

    private static bool SameMessage(string a, string b)
    {
        static string Path(string href) => href.Split('?', 2)[0];
        return string.Equals(Path(a), Path(b), StringComparison.Ordinal);
    }

    private async Task ParkUnreadableAsync(string id, ClaimedNotice notice, InvalidDataException e, CancellationToken cancellationToken)
    {
        // Not deleted: an operator may fix or inspect it. Parked for the longest claim so it does not spin.
        Log.LogError("queue={Queue} id={Id} object cannot be read ({Message}); its notice is parked for 12 h", Settings.Name, id, e.Message);
        await _queues.UpdateClaimAsync(notice.ClaimHref, TimeSpan.FromSeconds(RackspaceSettings.MaxClaimSeconds), Settings.Grace, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> RenewAsync(string id, string workerId, TimeSpan lease, CancellationToken cancellationToken)
    {
        var held = Held(id);
        if (held is null || held.WorkerId != workerId)
        {
            return false;
        }
        if (await _queues.UpdateClaimAsync(held.Notice.ClaimHref, lease, Settings.Grace, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        lock (_claims)
        {
            if (_claims.TryGetValue(id, out var now) && ReferenceEquals(now, held))
            {
                _claims.Remove(id);
            }
        }
        return false;
    }

    public async ValueTask ReleaseAsync(string id, string workerId, CancellationToken cancellationToken)
    {
        var held = Take(id, workerId);
        if (held is not null)
        {
            await _queues.ReleaseClaimAsync(held.Notice.ClaimHref, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WaitForWorkAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        // Cloud Queues has no push: idle workers poll with a claim after each wait. Messages
        // accepted by this process wake its engine directly.
        await Task.Delay(maxWait, Time, cancellationToken).ConfigureAwait(false);
    }

    private HeldClaim? Held(string id)
    {
        lock (_claims)
        {
            return _claims.GetValueOrDefault(id);
        }
    }

    /// <summary>Removes and returns the claim on <paramref name="id"/> (only <paramref name="workerId"/>'s, when given).</summary>
    private HeldClaim? Take(string id, string? workerId)
    {
        lock (_claims)
        {
            if (!_claims.TryGetValue(id, out var held) || (workerId is not null && held.WorkerId != workerId))
            {
                return null;
            }
            _claims.Remove(id);
            return held;
        }
    }

    private async Task ReleaseQuietlyAsync(ClaimedNotice notice)
    {
        try
        {
            using var cts = new CancellationTokenSource(Settings.Timeout, Time);
            await _queues.ReleaseClaimAsync(notice.ClaimHref, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.LogDebug("queue={Queue} claim release failed ({Message}); it expires after the lease", Settings.Name, e.Message);
        }
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        // Give back what this process still holds, so other workers need not wait for the lease.
        HeldClaim[] held;
        lock (_claims)
        {
            held = [.. _claims.Values];
            _claims.Clear();
        }
        foreach (var claim in held)
        {
            await ReleaseQuietlyAsync(claim.Notice).ConfigureAwait(false);
        }
    }
}
