using System.Collections.Concurrent;
using Amazon.SQS.Model;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Aws;

/// <summary>
/// An aws queue with <c>queue_name</c>, shared by every edge and worker that points at the same
/// bucket, prefix and SQS queue. It follows the hand-off design of the redis queue
/// (<see cref="ISharedQueueStorage"/>): a message is claimed by receiving its SQS notice, the
/// notice's visibility timeout is the claim's lease (renewed with ChangeMessageVisibility), a
/// retry is delayed by hiding the notice until the retry is due, and the notice is deleted only
/// when the message is removed, after every attempt was recorded in S3.
/// <para>
/// Order of a write: the notice is sent first, then the message object is written with the
/// notice's SQS message id in its metadata. So every stored message has a notice (a crash between
/// the two leaves a notice without a message, never a message nobody will be told about), and
/// each message has exactly one valid notice: a notice whose id is not the one the message
/// records (a duplicate, or the old one of a re-sent notice) is deleted when it is received. The
/// notice is sent with a delay of 1 second so the object is normally written before any worker
/// sees it; a notice whose message is missing is hidden again with a growing delay, and deleted
/// once it is older than <see cref="OrphanGrace"/> (its message was removed, or never written
/// because the write failed and the client was answered 451).
/// </para>
/// </summary>
internal sealed class AwsSharedStorage : ISharedQueueStorage, IAsyncDisposable
{
    /// <summary>
    /// How long a notice whose message object does not exist is kept before it is deleted as stale
    /// (at least: see <see cref="_orphanGrace"/>).
    /// </summary>
    public static readonly TimeSpan OrphanGrace = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A notice older than this is replaced by a new one when its message is rescheduled: SQS
    /// deletes messages older than the queue's retention period (4 days by default, 1 minute to 14
    /// days), so a message retried for longer must not keep its first notice. The queue's
    /// retention must be at least this plus 12 hours (2 days).
    /// </summary>
    public static readonly TimeSpan NoticeRefreshAge = TimeSpan.FromDays(1);

    /// <summary>How long the notice of a message that cannot be read is hidden before it is looked at again.</summary>
    private static readonly TimeSpan UnreadableRetry = TimeSpan.FromHours(1);

    /// <summary>Notices are received at most this many at a time (the SQS maximum).</summary>
    private const int ReceiveBatch = 10;

    /// <summary>How long a received notice waits in the buffer for a claim before it is given back.</summary>
    private static readonly TimeSpan BufferHold = TimeSpan.FromSeconds(2);

    /// <summary>Room left below the 12-hour visibility limit for clock differences and request time.</summary>
    private static readonly TimeSpan VisibilityMargin = TimeSpan.FromMinutes(1);

    private readonly S3MessageStore _store;
    private readonly SqsNotices _notices;
    private readonly AwsStorageSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, Claim> _claims = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Received> _buffer = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _pollLock = new();

    /// <summary>
    /// The orphan grace of this queue: <see cref="OrphanGrace"/>, or twice the longest a write may
    /// take when that is longer. The notice is sent before the message object is put, and the put
    /// may go on (SDK retries) until its deadline; deleting the notice before then would leave an
    /// accepted message that no worker is ever told about.
    /// </summary>
    private readonly TimeSpan _orphanGrace;
    private Task? _poll;

    public AwsSharedStorage(S3MessageStore store, SqsNotices notices, AwsStorageSettings settings, TimeProvider time, ILogger log)
    {
        _store = store;
        _notices = notices;
        _settings = settings;
        _time = time;
        _log = log;
        // A write is two calls (the notice, then the object), each bounded by the call deadline;
        // twice that again leaves room for a slow clock on the edge that stamped the notice.
        var write = AwsStorageFactory.CallDeadline(settings) * 2;
        _orphanGrace = write * 2 > OrphanGrace ? write * 2 : OrphanGrace;
    }

    /// <inheritdoc />
    public TimeSpan Lease => _settings.Lease;

    /// <summary>The S3 side (for tests).</summary>
    internal S3MessageStore Store => _store;

    /// <summary>The SQS side (for tests).</summary>
    internal SqsNotices Notices => _notices;

    private sealed record Claim(string WorkerId, string ReceiptHandle, string NoticeId, DateTimeOffset ReceivedAt, DateTimeOffset SentAt);

    /// <summary>A received notice waiting in the buffer; taken once, by a claim or by the sweep that gives it back.</summary>
    private sealed class Received(Message notice, DateTimeOffset receivedAt)
    {
        private int _taken;

        public Message Notice { get; } = notice;

        public DateTimeOffset ReceivedAt { get; } = receivedAt;

        public bool TryTake() => Interlocked.Exchange(ref _taken, 1) == 0;
    }

    public async ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(envelope);
        var delay = nextAttempt - _time.GetUtcNow();
        var notice = await _notices.SendAsync(id, nextAttempt, delay < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delay, cancellationToken).ConfigureAwait(false);
        // If this fails the edge answers 451 and the notice is left without a message: it is
        // deleted as stale when a worker finds no message after OrphanGrace.
        await _store.PutAsync(id, envelope, nextAttempt, notice, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        long nextMs = nextAttempt.ToUnixTimeMilliseconds();
        var now = _time.GetUtcNow();
        var delay = nextAttempt > now ? nextAttempt - now : TimeSpan.Zero;
        if (!_claims.TryGetValue(id, out var claim))
        {
            await RescheduleUnclaimedAsync(id, nextAttempt, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (now - claim.ReceivedAt + delay <= SqsNotices.MaxVisibility - VisibilityMargin && now - claim.SentAt < NoticeRefreshAge)
        {
            // Record first, then hide the notice until the retry is due: if hiding fails the
            // notice comes back after the lease, and the claim sees the time and hides it then.
            await _store.UpdateAsync(id, s => s.NextMs = nextMs, cancellationToken).ConfigureAwait(false);
            _claims.TryRemove(new KeyValuePair<string, Claim>(id, claim));
            await HideAsync(claim.ReceiptHandle, delay, id, "reschedule").ConfigureAwait(false);
            return;
        }
        // Beyond what this receipt may hide, or the notice is old enough to be near the queue's
        // retention period: a new notice replaces it.
        _claims.TryRemove(new KeyValuePair<string, Claim>(id, claim));
        await ReplaceNoticeAsync(id, nextAttempt, claim.ReceiptHandle, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A new time for a message this process holds no claim on (an operator's hold, release or
    /// flush). A later time is only recorded: the notice, wherever it is, finds it when it is
    /// received. An earlier time than a recorded future one needs a new notice: the old one may be
    /// hidden for up to 12 hours (a retry or a hold parked it), so the message would wait that long.
    /// The new notice is recorded as the valid one with the new time; the old one is deleted as a
    /// duplicate when it comes back. A message whose recorded time has passed may be claimed by a
    /// worker right now, so it gets no second notice (that would start a second attempt).
    /// </summary>
    private async Task RescheduleUnclaimedAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        long nextMs = nextAttempt.ToUnixTimeMilliseconds();
        var now = _time.GetUtcNow();
        var state = await _store.ReadStateAsync(id, null, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No message with id '{id}' is stored.");
        if (nextMs >= state.NextMs || state.NextMs <= now.ToUnixTimeMilliseconds())
        {
            await _store.UpdateAsync(id, s => s.NextMs = nextMs, cancellationToken).ConfigureAwait(false);
            return;
        }
        var delay = nextAttempt - now;
        // If recording fails, the new notice is the duplicate (deleted when received) and the old time stays.
        var newNotice = await _notices.SendAsync(id, nextAttempt, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, cancellationToken).ConfigureAwait(false);
        await _store.UpdateAsync(id, s =>
        {
            s.NextMs = nextMs;
            s.Notice = newNotice;
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a new notice for <paramref name="id"/> (visible when the retry is due, or after 15
    /// minutes, after which claims hide it again in steps of up to 12 hours), records it as the
    /// valid one together with <paramref name="nextAttempt"/>, and deletes the old notice. A crash
    /// in between leaves two notices, of which the one not recorded is deleted when received.
    /// </summary>
    private async Task ReplaceNoticeAsync(string id, DateTimeOffset nextAttempt, string oldReceiptHandle, CancellationToken cancellationToken)
    {
        var delay = nextAttempt - _time.GetUtcNow();
        var newNotice = await _notices.SendAsync(id, nextAttempt, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, cancellationToken).ConfigureAwait(false);
        await _store.UpdateAsync(id, s =>
        {
            s.NextMs = nextAttempt.ToUnixTimeMilliseconds();
            s.Notice = newNotice;
            return true;
        }, cancellationToken).ConfigureAwait(false);
        await DeleteNoticeAsync(oldReceiptHandle, id).ConfigureAwait(false);
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
        if (_claims.TryRemove(id, out var claim))
        {
            // The message is gone: if this delete fails, the notice comes back, finds no message
            // and is deleted as stale after OrphanGrace.
            await DeleteNoticeAsync(claim.ReceiptHandle, id).ConfigureAwait(false);
        }
    }

    public async ValueTask<StoredMessage?> ClaimNextDueAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        // Bounded: stale and not-yet-due notices are skipped, but one call does not run forever.
        for (int examined = 0; examined < 4 * ReceiveBatch; examined++)
        {
            var received = TakeBuffered();
            if (received is null)
            {
                var now = _time.GetUtcNow();
                var batch = await _notices.ReceiveAsync(ReceiveBatch, lease, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    return null;
                }
                Buffer(batch, now);
                continue;
            }
            if (await ExamineAsync(received, workerId, cancellationToken).ConfigureAwait(false) is { } claimed)
            {
                return claimed;
            }
        }
        return null;
    }

    /// <summary>
    /// Keeps received notices for the next claims. Notices no claim takes within
    /// <see cref="BufferHold"/> (this worker is busy with as many attempts as it runs at once, or
    /// stopping) are shown to other workers again rather than kept hidden for the whole lease.
    /// </summary>
    private void Buffer(List<Message> batch, DateTimeOffset now)
    {
        if (batch.Count == 0)
        {
            return;
        }
        var received = batch.Select(n => new Received(n, now)).ToList();
        foreach (var r in received)
        {
            _buffer.Enqueue(r);
        }
        _ = SweepAsync(received);
    }

    private async Task SweepAsync(List<Received> batch)
    {
        try
        {
            await Task.Delay(BufferHold, _time, _disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // Disposing gives back what is left.
        }
        foreach (var r in batch)
        {
            if (r.TryTake())
            {
                await HideAsync(r.Notice.ReceiptHandle, TimeSpan.Zero, "(buffered)", "release").ConfigureAwait(false);
            }
        }
    }

    /// <summary>The next buffered notice still well within its visibility timeout; older ones are shown to other workers again.</summary>
    private Received? TakeBuffered()
    {
        while (_buffer.TryDequeue(out var received))
        {
            if (!received.TryTake())
            {
                continue; // Given back by the sweep already.
            }
            if (_time.GetUtcNow() - received.ReceivedAt < _settings.Lease / 2)
            {
                return received;
            }
            // Too late to start an attempt on it: its claim would expire soon. Let another take it.
            _ = HideAsync(received.Notice.ReceiptHandle, TimeSpan.Zero, "(buffered)", "release");
        }
        return null;
    }

    /// <summary>Decides what a received notice means: a claim (returns the message) or something to skip.</summary>
    private async Task<StoredMessage?> ExamineAsync(Received received, string workerId, CancellationToken cancellationToken)
    {
        var notice = received.Notice;
        var doc = SqsNotices.Parse(notice.Body);
        if (doc is null)
        {
            _log.LogWarning("queue={Queue} sqs message {NoticeId} is not a slimta notice; deleted", _settings.Name, notice.MessageId);
            await DeleteNoticeAsync(notice.ReceiptHandle, "(unreadable)").ConfigureAwait(false);
            return null;
        }
        var id = doc.StorageId!;
        (StoredMessage Message, string? Notice)? found;
        try
        {
            found = await _store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            // Damaged, or written by a build with another layout: never guessed at, never dropped.
            // It stays in the bucket for an operator; its notice comes back every hour to say so.
            _log.LogError("queue={Queue} id={Id} cannot be read and is left in the bucket: {Message}", _settings.Name, id, e.Message);
            await HideAsync(notice.ReceiptHandle, UnreadableRetry, id, "postpone").ConfigureAwait(false);
            return null;
        }
        var now = _time.GetUtcNow();
        if (found is not { } current)
        {
            var age = now - SqsNotices.TimestampOf(doc);
            if (age > _orphanGrace)
            {
                _log.LogDebug("queue={Queue} id={Id} notice without a message deleted (message removed, or its write failed)", _settings.Name, id);
                await DeleteNoticeAsync(notice.ReceiptHandle, id).ConfigureAwait(false);
            }
            else
            {
                // Maybe still being written: look again later, less often the older it gets.
                await HideAsync(notice.ReceiptHandle, PostponeFor(age), id, "postpone").ConfigureAwait(false);
            }
            return null;
        }
        if (current.Notice is { } valid && valid != notice.MessageId)
        {
            var noticeAge = now - (SqsNotices.SentAt(notice) ?? received.ReceivedAt);
            if (noticeAge < _orphanGrace)
            {
                // Maybe a replacement whose sender has not recorded it yet (a new notice is sent,
                // then recorded): deleting it now, and the old one when it comes back, would leave
                // the message with no notice at all. Look again soon; a real duplicate is deleted
                // once it is older than any write could take.
                await HideAsync(notice.ReceiptHandle, PostponeFor(noticeAge), id, "postpone").ConfigureAwait(false);
                return null;
            }
            _log.LogDebug("queue={Queue} id={Id} duplicate notice {NoticeId} deleted", _settings.Name, id, notice.MessageId);
            await DeleteNoticeAsync(notice.ReceiptHandle, id).ConfigureAwait(false);
            return null;
        }
        var sentAt = SqsNotices.SentAt(notice) ?? received.ReceivedAt;
        if (current.Message.NextAttempt > now)
        {
            if (now - sentAt >= NoticeRefreshAge)
            {
                // Waiting long (a retry days away): renew the notice before SQS's retention
                // period could delete it.
                await ReplaceNoticeAsync(id, current.Message.NextAttempt, notice.ReceiptHandle, cancellationToken).ConfigureAwait(false);
                return null;
            }
            // A retry not due yet (its notice came back early: a re-sent notice, or a hide that
            // failed): hide it until it is due, at most what one receipt allows.
            var wait = current.Message.NextAttempt - now;
            var max = SqsNotices.MaxVisibility - VisibilityMargin;
            await HideAsync(notice.ReceiptHandle, wait < max ? wait : max, id, "postpone").ConfigureAwait(false);
            return null;
        }
        _claims[id] = new Claim(workerId, notice.ReceiptHandle, notice.MessageId, received.ReceivedAt, sentAt);
        return current.Message;
    }

    /// <summary>How long a notice that may not be recorded yet is hidden: less often the older it gets.</summary>
    private static TimeSpan PostponeFor(TimeSpan age) =>
        TimeSpan.FromTicks(Math.Clamp(age.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromMinutes(1).Ticks));

    public async ValueTask<bool> RenewAsync(string id, string workerId, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (!_claims.TryGetValue(id, out var claim) || claim.WorkerId != workerId)
        {
            return false;
        }
        if (_time.GetUtcNow() - claim.ReceivedAt + lease > SqsNotices.MaxVisibility)
        {
            return false; // SQS refuses to hide a message longer than 12 hours after its receipt.
        }
        if (await _notices.ChangeVisibilityAsync(claim.ReceiptHandle, lease, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        _claims.TryRemove(new KeyValuePair<string, Claim>(id, claim));
        return false;
    }

    public async ValueTask ReleaseAsync(string id, string workerId, CancellationToken cancellationToken)
    {
        if (_claims.TryGetValue(id, out var claim) && claim.WorkerId == workerId && _claims.TryRemove(new KeyValuePair<string, Claim>(id, claim)))
        {
            await _notices.ChangeVisibilityAsync(claim.ReceiptHandle, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WaitForWorkAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (!_buffer.IsEmpty || _disposing.IsCancellationRequested)
        {
            return;
        }
        Task poll;
        lock (_pollLock)
        {
            // One long poll at a time, owned by the storage rather than the caller: a caller that
            // stops waiting (new local work) must not abort a receive whose notices SQS may
            // already have hidden; they land in the buffer for the next claim.
            _poll ??= PollAsync(maxWait);
            poll = _poll;
        }
        try
        {
            await poll.WaitAsync(maxWait + TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The poll goes on; the caller looks for work now.
        }
    }

    private async Task PollAsync(TimeSpan maxWait)
    {
        await Task.Yield();
        try
        {
            // The long poll must end well within one request's timeout.
            var limit = _settings.Timeout - TimeSpan.FromSeconds(2);
            var wait = maxWait < limit ? maxWait : limit;
            var now = _time.GetUtcNow();
            var batch = await _notices.ReceiveAsync(ReceiveBatch, _settings.Lease, wait, _disposing.Token).ConfigureAwait(false);
            Buffer(batch, now);
        }
        catch (Exception e) when (e is not OperationCanceledException || !_disposing.IsCancellationRequested)
        {
            _log.LogDebug("queue={Queue} waiting for notices failed: {Message}", _settings.Name, e.Message);
        }
        catch (OperationCanceledException)
        {
            // Disposing.
        }
        finally
        {
            lock (_pollLock)
            {
                _poll = null;
            }
        }
    }

    private async Task HideAsync(string receiptHandle, TimeSpan visibility, string id, string what)
    {
        try
        {
            await _notices.ChangeVisibilityAsync(receiptHandle, visibility, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The notice comes back after its current visibility timeout instead.
            _log.LogWarning("queue={Queue} id={Id} could not {What} the sqs notice: {Message}", _settings.Name, id, what, e.Message);
        }
    }

    private async Task DeleteNoticeAsync(string receiptHandle, string id)
    {
        try
        {
            await _notices.DeleteAsync(receiptHandle, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // It comes back, finds its message gone (or not the valid notice) and is deleted then.
            _log.LogWarning("queue={Queue} id={Id} could not delete the sqs notice: {Message}", _settings.Name, id, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposing.CancelAsync().ConfigureAwait(false);
        Task? poll;
        lock (_pollLock)
        {
            poll = _poll;
        }
        if (poll is not null)
        {
            await poll.ConfigureAwait(false);
        }
        // Notices received but never claimed: show them to other workers now rather than after the lease.
        using var soon = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (_buffer.TryDequeue(out var received))
        {
            if (!received.TryTake())
            {
                continue;
            }
            try
            {
                await _notices.ChangeVisibilityAsync(received.Notice.ReceiptHandle, TimeSpan.Zero, soon.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                break;
            }
        }
        _notices.Client.Dispose();
        _store.Client.Dispose();
        _store.Dispose();
        _disposing.Dispose();
    }
}
