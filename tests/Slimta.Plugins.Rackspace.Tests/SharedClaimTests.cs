using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Plugins.Rackspace.Tests.FakeRackspace;
using static Slimta.Plugins.Rackspace.Tests.RackspaceOptions;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>
/// The ISharedQueueStorage mapping onto Cloud Queues claims, with the fake server and the storages
/// on one fake clock: leases are claim ttls, renewals PATCH the claim, retries park the claim until due.
/// </summary>
public sealed class SharedClaimTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _name = NewName("q");
    private FakeRackspaceServer _server = null!;
    private readonly List<RackspaceSharedStorage> _storages = [];

    public Task InitializeAsync()
    {
        _server = new FakeRackspaceServer(_time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _storages)
        {
            await s.DisposeAsync();
        }
        await _server.DisposeAsync();
    }

    private RackspaceSharedStorage Storage(params (string Key, object Value)[] extra)
    {
        var storage = (RackspaceSharedStorage)Create(_server, _name, _name, _time, extra);
        _storages.Add(storage);
        return storage;
    }

    private async Task<string> WriteAsync(RackspaceSharedStorage storage)
    {
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], RawMessage.FromString("Subject: claim\r\n\r\nbody\r\n")) { Id = id }, _time.GetUtcNow(), Ct);
        return id;
    }

    [Fact]
    public async Task WriteAsync_Always_PostsOneNoticeWithTimestampAndStorageId()
    {
        var edge = Storage();
        var id = await WriteAsync(edge);
        var notice = Assert.Single(_server.QueueMessages(_name));
        Assert.Equal(id, (string?)notice.Body?["storage_id"]);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000m, (decimal)notice.Body!["timestamp"]!);
        Assert.All(_server.Requests.Where(r => r.Path.Contains("/messages", StringComparison.Ordinal) || r.Path.Contains("/claims", StringComparison.Ordinal)),
            r => Assert.True(Guid.TryParse(r.ClientId, out _), $"{r.Method} {r.Path} without Client-ID"));
    }

    [Fact]
    public async Task ClaimNextDueAsync_WrittenMessage_ReturnedOnceUntilSettled()
    {
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        var claimed = await a.ClaimNextDueAsync("a", Lease, Ct);
        Assert.NotNull(claimed);
        Assert.Equal(id, claimed.Id);
        Assert.Equal("Subject: claim\r\n\r\nbody\r\n", System.Text.Encoding.UTF8.GetString(claimed.Envelope.Message.Bytes.Span));
        Assert.Null(await b.ClaimNextDueAsync("b", Lease, Ct));
        Assert.Null(await a.ClaimNextDueAsync("a", Lease, Ct));
    }

    [Fact]
    public async Task ClaimNextDueAsync_LeaseExpired_OtherWorkerTakesOverAndRenewFails()
    {
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        _time.Advance(TimeSpan.FromSeconds(61));
        var taken = await b.ClaimNextDueAsync("b", Lease, Ct);
        Assert.Equal(id, taken?.Id);
        Assert.False(await a.RenewAsync(id, "a", Lease, Ct));
        Assert.True(await b.RenewAsync(id, "b", Lease, Ct));
    }

    [Fact]
    public async Task RenewAsync_BeforeExpiry_KeepsTheClaim()
    {
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(await a.RenewAsync(id, "a", Lease, Ct));
        Assert.False(await a.RenewAsync(id, "someone-else", Lease, Ct));
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.Null(await b.ClaimNextDueAsync("b", Lease, Ct));
    }

    [Fact]
    public async Task ReleaseAsync_Claimed_FreeForOthersAtOnce()
    {
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        await a.ReleaseAsync(id, "a", Ct);
        Assert.Equal(id, (await b.ClaimNextDueAsync("b", Lease, Ct))?.Id);
        Assert.Equal(0, a.HeldClaims);
    }

    [Fact]
    public async Task SetNextAttemptAsync_Claimed_ParkedUntilDueThenClaimable()
    {
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        Assert.Equal(1, await a.IncrementAttemptsAsync(id, Ct));
        var due = DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().AddSeconds(300).ToUnixTimeMilliseconds());
        await a.SetNextAttemptAsync(id, due, Ct);
        Assert.Equal(0, a.HeldClaims);
        Assert.Null(await b.ClaimNextDueAsync("b", Lease, Ct));
        _time.Advance(TimeSpan.FromSeconds(299));
        Assert.Null(await b.ClaimNextDueAsync("b", Lease, Ct));
        _time.Advance(TimeSpan.FromSeconds(2));
        var retried = await b.ClaimNextDueAsync("b", Lease, Ct);
        Assert.NotNull(retried);
        Assert.Equal(1, retried.Attempts);
        Assert.Equal(due, retried.NextAttempt);
        Assert.Single(_server.QueueMessages(_name)); // one notice, parked and claimed again
    }

    [Fact]
    public async Task SetNextAttemptAsync_NoticeExpiresBeforeDue_ReplacedByFreshNotice()
    {
        var edge = Storage(("notice_ttl", "7200"));
        var a = Storage(("notice_ttl", "7200"));
        var b = Storage(("notice_ttl", "7200"));
        var id = await WriteAsync(edge);
        var first = Assert.Single(_server.QueueMessages(_name)).Id;
        _time.Advance(TimeSpan.FromMinutes(90)); // the notice has 30 minutes left
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        await a.SetNextAttemptAsync(id, _time.GetUtcNow().AddHours(1), Ct);
        var fresh = Assert.Single(_server.QueueMessages(_name));
        Assert.NotEqual(first, fresh.Id);
        Assert.Equal(id, (string?)fresh.Body?["storage_id"]);
        Assert.Null(await b.ClaimNextDueAsync("b", Lease, Ct)); // parks the fresh notice
        Assert.Equal(fresh.Id, Assert.Single(_server.QueueMessages(_name)).Id);
        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Null(await b.ClaimNextDueAsync("b", Lease, Ct));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(id, (await b.ClaimNextDueAsync("b", Lease, Ct))?.Id);
    }

    [Fact]
    public async Task SetNextAttemptAsync_NotClaimedEarlierThanRecorded_DueAtTheNewTime()
    {
        // `slimta queue flush ID` on a message whose retry is hours away, from a process holding no claim.
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        await a.SetNextAttemptAsync(id, _time.GetUtcNow().AddHours(6), Ct); // parked for 6 h
        _time.Advance(TimeSpan.FromMinutes(1));

        await edge.SetNextAttemptAsync(id, _time.GetUtcNow(), Ct);

        Assert.Equal(id, (await b.ClaimNextDueAsync("b", Lease, Ct))?.Id);
        await b.RemoveAsync(id, Ct);
        _time.Advance(TimeSpan.FromHours(7));
        Assert.Null(await a.ClaimNextDueAsync("a", Lease, Ct));
        Assert.Empty(_server.QueueMessages(_name));
    }

    [Fact]
    public async Task SetNextAttemptAsync_HeldThenReleasedWithoutClaim_ClaimableAtOnceAndOldNoticeDropped()
    {
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        await edge.SetNextAttemptAsync(id, new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), Ct); // hold
        Assert.Null(await a.ClaimNextDueAsync("a", Lease, Ct)); // parks the notice for 12 h
        _time.Advance(TimeSpan.FromMinutes(5));

        await edge.SetNextAttemptAsync(id, _time.GetUtcNow(), Ct); // release
        Assert.Equal(id, (await a.ClaimNextDueAsync("a", Lease, Ct))?.Id);
        await a.SetNextAttemptAsync(id, _time.GetUtcNow().AddHours(30), Ct); // a retry far away
        _time.Advance(TimeSpan.FromHours(13)); // both notices free again

        // The old notice is a duplicate now: dropped, so the message has one notice, not two
        // (two would mean two workers attempting it at once when it is due).
        Assert.Null(await b.ClaimNextDueAsync("b", Lease, Ct));
        Assert.Single(_server.QueueMessages(_name));
    }

    [Fact]
    public async Task SetNextAttemptAsync_DuplicateNotice_OneNoticeLeftAfterTheFirstRetry()
    {
        var edge = Storage();
        var a = Storage();
        var b = Storage();
        var id = await WriteAsync(edge);
        // A notice POST repeated after an ambiguous timeout: two notices for one message.
        await edge.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], RawMessage.FromString("Subject: claim\r\n\r\nbody\r\n")) { Id = id }, _time.GetUtcNow(), Ct);
        Assert.Equal(2, _server.QueueMessages(_name).Count);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        Assert.NotNull(await b.ClaimNextDueAsync("b", Lease, Ct)); // the duplicate's price: one concurrent attempt
        var retry = _time.GetUtcNow().AddHours(1);
        await a.SetNextAttemptAsync(id, retry, Ct);
        await b.SetNextAttemptAsync(id, retry, Ct);
        _time.Advance(TimeSpan.FromMinutes(61));

        var first = await a.ClaimNextDueAsync("a", Lease, Ct);
        var second = await b.ClaimNextDueAsync("b", Lease, Ct);

        Assert.Equal(1, new[] { first, second }.Count(c => c is not null)); // not at every retry
        Assert.Single(_server.QueueMessages(_name));
    }

    [Fact]
    public async Task ClaimNextDueAsync_NotDueYet_ParksNoticeAndReturnsNull()
    {
        var edge = Storage();
        var a = Storage();
        var id = await WriteAsync(edge);
        await edge.SetNextAttemptAsync(id, _time.GetUtcNow().AddSeconds(120), Ct); // not claimed: metadata only
        Assert.Null(await a.ClaimNextDueAsync("a", Lease, Ct));
        Assert.True(Assert.Single(_server.QueueMessages(_name)).IsClaimed(_time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal(id, (await a.ClaimNextDueAsync("a", Lease, Ct))?.Id);
    }

    [Fact]
    public async Task RemoveAsync_Claimed_DeletesObjectAndNotice()
    {
        var edge = Storage();
        var a = Storage();
        var id = await WriteAsync(edge);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        await a.RemoveAsync(id, Ct);
        Assert.Empty(_server.ObjectNames(_name)!);
        Assert.Empty(_server.QueueMessages(_name));
        Assert.Contains(_server.Requests, r => r.Method == "DELETE" && r.Path.Contains("/messages/", StringComparison.Ordinal) && r.Status == 204);
    }

    [Fact]
    public async Task ClaimNextDueAsync_NoticeOfRemovedObject_DeletesNoticeAndReturnsNull()
    {
        var edge = Storage();
        var a = Storage();
        var id = await WriteAsync(edge);
        await edge.RemoveAsync(id, Ct); // unclaimed: the notice stays behind
        Assert.Single(_server.QueueMessages(_name));
        Assert.Null(await a.ClaimNextDueAsync("a", Lease, Ct));
        Assert.Empty(_server.QueueMessages(_name));
    }

    [Fact]
    public async Task DisposeAsync_HeldClaims_Released()
    {
        var edge = Storage();
        var a = (RackspaceSharedStorage)Create(_server, _name, _name, _time);
        var b = Storage();
        var id = await WriteAsync(edge);
        Assert.NotNull(await a.ClaimNextDueAsync("a", Lease, Ct));
        await a.DisposeAsync();
        Assert.Equal(id, (await b.ClaimNextDueAsync("b", Lease, Ct))?.Id);
    }

    [Fact]
    public async Task ClaimNextDueAsync_ManyMessages_EachClaimedByOneWorker()
    {
        var edge = Storage();
        var workers = new[] { Storage(), Storage(), Storage() };
        var ids = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            ids.Add(await WriteAsync(edge));
        }
        var claimed = await Task.WhenAll(workers.Select(async (w, n) =>
        {
            var mine = new List<string>();
            while (await w.ClaimNextDueAsync("w" + n, Lease, Ct) is { } m)
            {
                mine.Add(m.Id);
            }
            return mine;
        }));
        Assert.Equal(ids.Order(), claimed.SelectMany(c => c).Order());
    }
}
