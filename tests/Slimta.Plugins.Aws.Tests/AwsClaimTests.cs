using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>
/// Claims through SQS notices against s3rver and a <see cref="SqsServer"/> that shares the test's
/// fake clock, so visibility timeouts of minutes and hours pass at once.
/// </summary>
[Collection(AwsCollection.Name)]
public sealed class AwsClaimTests(AwsFixture aws) : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _prefix = AwsFixture.NewPrefix("claim");
    private readonly string _queue = "claims" + Guid.NewGuid().ToString("N")[..8];
    private SqsServer? _sqs;

    public Task InitializeAsync()
    {
        _sqs = SqsServer.Start(_time);
        _sqs.CreateQueue(_queue);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _sqs!.DisposeAsync();

    private AwsSharedStorage Storage() => aws.CreateShared(_time, _prefix, _queue, Lease.TotalSeconds, _sqs);

    private static Envelope Sample() => new("a@example.org", ["b@example.com", "c@example.com"], RawMessage.FromString("Subject: x\r\n\r\nhi\r\n"));

    private async Task<string> WriteAsync(AwsSharedStorage storage)
    {
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, Sample(), _time.GetUtcNow(), Ct);
        // The notice is sent with a delay of 1 second (the object is written meanwhile).
        _time.Advance(TimeSpan.FromSeconds(1));
        return id;
    }

    [Fact]
    public async Task ClaimNextDueAsync_NewMessage_ClaimedOnceUntilLeaseExpires()
    {
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);

        var first = await a.ClaimNextDueAsync("w1", Lease, Ct);
        var second = await b.ClaimNextDueAsync("w2", Lease, Ct);
        _time.Advance(Lease + TimeSpan.FromSeconds(1));
        var takeover = await b.ClaimNextDueAsync("w2", Lease, Ct);

        Assert.Equal(id, first?.Id);
        Assert.Null(second);
        Assert.Equal(id, takeover?.Id);
        Assert.False(await a.RenewAsync(id, "w1", Lease, Ct));
    }

    [Fact]
    public async Task ClaimNextDueAsync_NoticeDelayNotOver_NothingDue()
    {
        await using var a = Storage();
        await a.WriteAsync(Guid.NewGuid().ToString("N"), Sample(), _time.GetUtcNow(), Ct);

        Assert.Null(await a.ClaimNextDueAsync("w1", Lease, Ct));
    }

    [Fact]
    public async Task ClaimNextDueAsync_ManyConcurrentWorkers_EachMessageClaimedExactlyOnce()
    {
        await using var storage = Storage();
        var ids = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            var id = Guid.NewGuid().ToString("N");
            await storage.WriteAsync(id, Sample(), _time.GetUtcNow(), Ct);
            ids.Add(id);
        }
        _time.Advance(TimeSpan.FromSeconds(1));
        var workers = Enumerable.Range(0, 4).Select(_ => Storage()).ToList();
        var claimed = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(workers.Select((w, n) => Task.Run(async () =>
        {
            while (await w.ClaimNextDueAsync("w" + n, Lease, Ct) is { } m)
            {
                claimed.Add(m.Id);
            }
        })));
        foreach (var w in workers)
        {
            await w.DisposeAsync();
        }

        Assert.Equal(ids.Order(), claimed.Order());
    }

    [Fact]
    public async Task RenewAsync_HeldClaim_KeepsOtherWorkersOut()
    {
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));

        for (int i = 0; i < 4; i++)
        {
            _time.Advance(Lease / 2);
            Assert.True(await a.RenewAsync(id, "w1", Lease, Ct));
            Assert.Null(await b.ClaimNextDueAsync("w2", Lease, Ct));
        }
        Assert.False(await a.RenewAsync(id, "someone-else", Lease, Ct));
    }

    [Fact]
    public async Task ReleaseAsync_Claim_OtherWorkerClaimsAtOnce()
    {
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));

        await a.ReleaseAsync(id, "w1", Ct);

        Assert.Equal(id, (await b.ClaimNextDueAsync("w2", Lease, Ct))?.Id);
    }

    [Fact]
    public async Task SetNextAttemptAsync_Claimed_HiddenUntilDueThenClaimedWithRecordedState()
    {
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));
        Assert.Equal(1, await a.IncrementAttemptsAsync(id, Ct));
        await a.SetRecipientsDeliveredAsync(id, [1], Ct);

        await a.SetNextAttemptAsync(id, _time.GetUtcNow().AddMinutes(10), Ct);
        _time.Advance(TimeSpan.FromMinutes(9));
        var early = await b.ClaimNextDueAsync("w2", Lease, Ct);
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var due = await b.ClaimNextDueAsync("w2", Lease, Ct);

        Assert.Null(early);
        Assert.NotNull(due);
        Assert.Equal((id, 1), (due.Id, due.Attempts));
        Assert.Equal([1], due.Delivered);
        Assert.Equal((0, 1, 0), _sqs!.Counts(_queue));
    }

    [Fact]
    public async Task SetNextAttemptAsync_BeyondTwelveHours_NoticeResentAndHiddenInStepsUntilDue()
    {
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));
        var due = _time.GetUtcNow().AddHours(30);

        await a.SetNextAttemptAsync(id, due, Ct);
        Assert.Single(_sqs!.Bodies(_queue)); // the old notice is gone, the new one is delayed
        var seen = new List<bool>();
        foreach (var step in new[] { TimeSpan.FromMinutes(16), TimeSpan.FromHours(12), TimeSpan.FromHours(12), TimeSpan.FromHours(5) })
        {
            _time.Advance(step);
            seen.Add(await b.ClaimNextDueAsync("w2", Lease, Ct) is not null);
        }
        _time.Advance(TimeSpan.FromHours(1));
        var claimed = await b.ClaimNextDueAsync("w2", Lease, Ct);

        Assert.Equal([false, false, false, false], seen);
        Assert.Equal(id, claimed?.Id);
        Assert.Equal(due.ToUnixTimeMilliseconds(), claimed!.NextAttempt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task SetNextAttemptAsync_NoticeOlderThanRefreshAge_NoticeReplaced()
    {
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        _time.Advance(AwsSharedStorage.NoticeRefreshAge);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));
        var old = Assert.Single(_sqs!.Bodies(_queue));
        var next = _time.GetUtcNow().AddMinutes(5);

        await a.SetNextAttemptAsync(id, next, Ct);
        _time.Advance(TimeSpan.FromMinutes(5));
        var claimed = await b.ClaimNextDueAsync("w2", Lease, Ct);

        Assert.NotEqual(old, Assert.Single(_sqs.Bodies(_queue)));
        Assert.Equal(id, claimed?.Id);
    }

    [Fact]
    public async Task ClaimNextDueAsync_OldNoticeOfRetryNotDue_NoticeReplacedAndMessageClaimedWhenDue()
    {
        await using var a = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));
        var due = _time.GetUtcNow() + AwsSharedStorage.NoticeRefreshAge + TimeSpan.FromHours(20);
        await a.SetNextAttemptAsync(id, due, Ct); // 12-hour steps: the notice is re-sent, then hidden

        var seen = new List<bool>();
        for (int step = 0; step < 4; step++)
        {
            _time.Advance(TimeSpan.FromHours(10));
            seen.Add(await a.ClaimNextDueAsync("w1", Lease, Ct) is not null);
        }
        _time.Advance(due - _time.GetUtcNow());
        var claimed = await a.ClaimNextDueAsync("w1", Lease, Ct);

        Assert.DoesNotContain(true, seen);
        Assert.Equal(id, claimed?.Id);
        Assert.Single(_sqs!.Bodies(_queue));
    }

    [Fact]
    public async Task RemoveAsync_Claimed_NoticeDeleted()
    {
        await using var a = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));

        await a.RemoveAsync(id, Ct);

        Assert.Empty(_sqs!.Bodies(_queue));
        Assert.Null(await a.GetAsync(id, Ct));
    }

    [Fact]
    public async Task ClaimNextDueAsync_NoticeWithoutMessage_PostponedThenDeletedAfterGrace()
    {
        await using var a = Storage();
        var missing = Guid.NewGuid().ToString("N");
        await a.Notices.SendAsync(missing, _time.GetUtcNow(), TimeSpan.Zero, Ct);

        Assert.Null(await a.ClaimNextDueAsync("w1", Lease, Ct));
        Assert.Single(_sqs!.Bodies(_queue)); // kept: its message may still be being written
        _time.Advance(AwsSharedStorage.OrphanGrace + TimeSpan.FromMinutes(2));
        Assert.Null(await a.ClaimNextDueAsync("w1", Lease, Ct));

        Assert.Empty(_sqs.Bodies(_queue));
    }

    [Fact]
    public async Task ClaimNextDueAsync_DuplicateNotice_DeletedAndMessageClaimedOnce()
    {
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        await a.Notices.SendAsync(id, _time.GetUtcNow(), TimeSpan.Zero, Ct);

        var first = await a.ClaimNextDueAsync("w1", Lease, Ct);
        var second = await b.ClaimNextDueAsync("w2", Lease, Ct);
        var third = await a.ClaimNextDueAsync("w1", Lease, Ct);

        Assert.Equal(id, first?.Id);
        Assert.Null(second);
        Assert.Null(third);
        // A young duplicate may be a replacement not recorded yet: it is deleted once it is old.
        for (int i = 0; i < 36; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(20));
            Assert.True(await a.RenewAsync(id, "w1", Lease, Ct));
            Assert.Null(await b.ClaimNextDueAsync("w2", Lease, Ct));
        }
        Assert.Single(_sqs!.Bodies(_queue));
    }

    [Fact]
    public async Task ClaimNextDueAsync_ReplacementNoticeSeenBeforeItIsRecorded_KeptAndClaimedOnceRecorded()
    {
        // An operator's flush sends a new notice, then records it; a worker may receive it in between.
        await using var a = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));
        await a.SetNextAttemptAsync(id, _time.GetUtcNow().AddHours(1), Ct);
        var fresh = await a.Notices.SendAsync(id, _time.GetUtcNow(), TimeSpan.Zero, Ct);

        Assert.Null(await b.ClaimNextDueAsync("w2", Lease, Ct)); // seen before it is recorded
        await a.Store.UpdateAsync(id, s => { s.NextMs = _time.GetUtcNow().ToUnixTimeMilliseconds(); s.Notice = fresh; return true; }, Ct);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(id, (await b.ClaimNextDueAsync("w2", Lease, Ct))?.Id);
    }

    [Fact]
    public async Task ClaimNextDueAsync_UnreadableNotice_DeletedAndSkipped()
    {
        await using var a = Storage();
        var id = await WriteAsync(a);
        using var sqs = new Amazon.SQS.AmazonSQSClient(new Amazon.Runtime.BasicAWSCredentials("x", "y"), new Amazon.SQS.AmazonSQSConfig { ServiceURL = _sqs!.Url.ToString(), AuthenticationRegion = "us-west-2" });
        var url = (await sqs.GetQueueUrlAsync(_queue)).QueueUrl;
        await sqs.SendMessageAsync(url, "not a notice");

        var claimed = await a.ClaimNextDueAsync("w1", Lease, Ct);
        var next = await a.ClaimNextDueAsync("w1", Lease, Ct);

        Assert.Equal(id, claimed?.Id);
        Assert.Null(next);
        Assert.DoesNotContain("not a notice", _sqs.Bodies(_queue));
    }

    [Fact]
    public async Task ClaimNextDueAsync_UnreadableMessageObject_SkippedAndLeftInBucket()
    {
        await using var a = Storage();
        var broken = Guid.NewGuid().ToString("N");
        using (var s3 = aws.S3Client())
        {
            var put = new Amazon.S3.Model.PutObjectRequest { BucketName = AwsFixture.Bucket, Key = _prefix + broken, ContentBody = "no envelope line", UseChunkEncoding = false };
            put.Metadata["slimta-layout"] = "1";
            put.Metadata["next-ms"] = "0";
            await s3.PutObjectAsync(put);
        }
        await a.Notices.SendAsync(broken, _time.GetUtcNow(), TimeSpan.Zero, Ct);
        var id = await WriteAsync(a);

        var claimed = await a.ClaimNextDueAsync("w1", Lease, Ct);
        var next = await a.ClaimNextDueAsync("w1", Lease, Ct);

        Assert.Equal(id, claimed?.Id);
        Assert.Null(next);
        Assert.Equal(2, _sqs!.Bodies(_queue).Count);
        Assert.Contains(broken, (await ToListAsync(a.LoadAllAsync(Ct))).Select(m => m.Id));
    }

    [Fact]
    public async Task WriteAsync_NoticeBody_IsTimestampAndStorageId()
    {
        await using var a = Storage();
        var id = Guid.NewGuid().ToString("N");
        var next = _time.GetUtcNow();

        await a.WriteAsync(id, Sample(), next, Ct);

        var body = System.Text.Json.JsonDocument.Parse(Assert.Single(_sqs!.Bodies(_queue))).RootElement;
        Assert.Equal(id, body.GetProperty("storage_id").GetString());
        Assert.Equal(next.ToUnixTimeMilliseconds() / 1000.0, body.GetProperty("timestamp").GetDouble(), 3);
    }

    [Fact]
    public async Task WriteAsync_SqsDown_ThrowsAndStoresNothing()
    {
        await using var a = Storage();
        _sqs!.Stop();
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(async () => await a.WriteAsync(Guid.NewGuid().ToString("N"), Sample(), _time.GetUtcNow(), Ct));
        }
        finally
        {
            _sqs.Start();
        }

        Assert.Empty(await ToListAsync(a.LoadAllAsync(Ct)));
    }

    [Fact]
    public async Task WriteAsync_QueueRetentionUnderTwoDays_RefusedAndNothingStored()
    {
        // A notice waiting a day for its refresh would be deleted by SQS first: the message would
        // never be delivered. Such a queue must refuse mail (451), not accept and strand it.
        var shortQueue = "short" + Guid.NewGuid().ToString("N")[..8];
        _sqs!.CreateQueue(shortQueue, retention: TimeSpan.FromHours(12));
        await using var storage = aws.CreateShared(_time, _prefix, shortQueue, Lease.TotalSeconds, _sqs);

        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await storage.WriteAsync(Guid.NewGuid().ToString("N"), Sample(), _time.GetUtcNow(), Ct));

        Assert.Contains("MessageRetentionPeriod", e.Message, StringComparison.Ordinal);
        Assert.Empty(_sqs.Bodies(shortQueue));
        Assert.Empty(await ToListAsync(storage.LoadAllAsync(Ct)));
    }

    [Fact]
    public async Task WriteAsync_DeadLetterQueueWithSmallReceiveCount_Refused()
    {
        // A notice is received many times while it waits (a retry days away, a hold, a message
        // still being written): a redrive policy would move it to the dead-letter queue.
        var dlqQueue = "dlq" + Guid.NewGuid().ToString("N")[..8];
        _sqs!.CreateQueue(dlqQueue, redrivePolicy: "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-west-2:000000000000:dead\",\"maxReceiveCount\":5}");
        await using var storage = aws.CreateShared(_time, _prefix, dlqQueue, Lease.TotalSeconds, _sqs);

        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await storage.WriteAsync(Guid.NewGuid().ToString("N"), Sample(), _time.GetUtcNow(), Ct));

        Assert.Contains("maxReceiveCount", e.Message, StringComparison.Ordinal);
        Assert.Empty(_sqs.Bodies(dlqQueue));
    }

    [Fact]
    public async Task WriteAsync_S3Unreachable_Throws()
    {
        var extra = new[] { ("s3_service_url", $"http://127.0.0.1:{FreePort.Next()}/") };
        await using var storage = (AwsSharedStorage)aws.Create(_time, _prefix, _queue, Lease.TotalSeconds, extra, _sqs);

        await Assert.ThrowsAnyAsync<Exception>(async () => await storage.WriteAsync(Guid.NewGuid().ToString("N"), Sample(), _time.GetUtcNow(), Ct));
    }

    [Fact]
    public async Task SetNextAttemptAsync_NotClaimedEarlierThanRecorded_DueAtTheNewTime()
    {
        // `slimta queue flush ID` on a message whose retry is hours away: the admin's process holds
        // no claim, and the notice is hidden until the old retry time.
        await using var a = Storage();
        await using var admin = Storage();
        await using var b = Storage();
        var id = await WriteAsync(a);
        Assert.NotNull(await a.ClaimNextDueAsync("w1", Lease, Ct));
        await a.SetNextAttemptAsync(id, _time.GetUtcNow().AddHours(6), Ct);
        _time.Advance(TimeSpan.FromMinutes(1));

        await admin.SetNextAttemptAsync(id, _time.GetUtcNow(), Ct);
        _time.Advance(TimeSpan.FromSeconds(1));
        var claimed = await b.ClaimNextDueAsync("w2", Lease, Ct);

        Assert.Equal(id, claimed?.Id);
        await b.RemoveAsync(id, Ct);
        _time.Advance(TimeSpan.FromHours(7));
        Assert.Null(await admin.ClaimNextDueAsync("w3", Lease, Ct)); // the old notice comes back and goes
        Assert.Empty(_sqs!.Bodies(_queue));
    }

    [Fact]
    public async Task SetNextAttemptAsync_HeldThenReleasedWithoutClaim_ClaimableAtOnce()
    {
        // `slimta queue hold ID` then `slimta queue release ID` from a process holding no claim.
        await using var a = Storage();
        await using var admin = Storage();
        var id = await WriteAsync(a);
        await admin.SetNextAttemptAsync(id, new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), Ct);
        Assert.Null(await a.ClaimNextDueAsync("w1", Lease, Ct)); // held: the notice is parked for hours
        _time.Advance(TimeSpan.FromMinutes(5));

        await admin.SetNextAttemptAsync(id, _time.GetUtcNow(), Ct);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(id, (await a.ClaimNextDueAsync("w1", Lease, Ct))?.Id);
    }

    [Fact]
    public async Task ClaimNextDueAsync_MessageWrittenLaterThanOrphanGraceButWithinWriteDeadline_Claimed()
    {
        // timeout 600 s and 2 retries: a write may take half an hour; its notice must outlive it.
        var extra = new[] { ("timeout", "600") };
        await using var a = (AwsSharedStorage)aws.Create(_time, _prefix, _queue, Lease.TotalSeconds, extra, _sqs);
        var id = Guid.NewGuid().ToString("N");
        var next = _time.GetUtcNow();
        var notice = await a.Notices.SendAsync(id, next, TimeSpan.Zero, Ct);
        for (int i = 0; i < 12; i++)
        {
            Assert.Null(await a.ClaimNextDueAsync("w1", Lease, Ct)); // the object is still being written
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        await a.Store.PutAsync(id, Sample(), next, notice, Ct);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(id, (await a.ClaimNextDueAsync("w1", Lease, Ct))?.Id);
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }
        return list;
    }
}
