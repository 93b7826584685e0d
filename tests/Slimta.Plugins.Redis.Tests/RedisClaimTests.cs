using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using StackExchange.Redis;

namespace Slimta.Plugins.Redis.Tests;

/// <summary>Claims, leases, take-over and scheduling against a real redis-server, on a fake clock.</summary>
public sealed class RedisClaimTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private static Envelope Sample() => new("a@example.org", ["b@example.com"], RawMessage.FromString("Subject: x\r\n\r\nhi\r\n"));

    [Fact]
    public async Task ClaimNextDueAsync_NewMessage_ClaimedOnceOnly()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = redis.Create(time);
        var id = Guid.NewGuid().ToString("N");
        await a.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);

        var first = await a.ClaimNextDueAsync("w1", Lease, CancellationToken.None);
        var second = await a.ClaimNextDueAsync("w2", Lease, CancellationToken.None);

        Assert.Equal(id, first?.Id);
        Assert.Null(second);
    }

    [Fact]
    public async Task ClaimNextDueAsync_ManyConcurrentWorkers_EachMessageClaimedExactlyOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = redis.Create(time);
        var ids = Enumerable.Range(0, 200).Select(_ => Guid.NewGuid().ToString("N")).ToList();
        foreach (var id in ids)
        {
            await storage.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);
        }
        var claimed = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            while (await storage.ClaimNextDueAsync("w" + w, Lease, CancellationToken.None) is { } m)
            {
                claimed.Add(m.Id);
            }
        })));

        Assert.Equal(ids.Count, claimed.Count);
        Assert.Equal(ids.OrderBy(x => x), claimed.OrderBy(x => x));
    }

    [Fact]
    public async Task ClaimNextDueAsync_LeaseExpired_OtherWorkerTakesOver()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = redis.Create(time);
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);
        Assert.NotNull(await storage.ClaimNextDueAsync("dead", Lease, CancellationToken.None));

        time.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.Null(await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None));
        time.Advance(TimeSpan.FromSeconds(2));
        var taken = await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None);

        Assert.Equal(id, taken?.Id);
        Assert.False(await storage.RenewAsync(id, "dead", Lease, CancellationToken.None));
    }

    [Fact]
    public async Task RenewAsync_BeforeExpiry_KeepsClaimPastOriginalLease()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = redis.Create(time);
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);
        await storage.ClaimNextDueAsync("w1", Lease, CancellationToken.None);

        time.Advance(Lease / 2);
        Assert.True(await storage.RenewAsync(id, "w1", Lease, CancellationToken.None));
        time.Advance(Lease * 3 / 4);

        Assert.Null(await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None));
    }

    [Fact]
    public async Task SetNextAttemptAsync_Claimed_ReleasesAndBecomesDueAtThatTime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = redis.Create(time);
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);
        await storage.ClaimNextDueAsync("w1", Lease, CancellationToken.None);

        await storage.SetNextAttemptAsync(id, time.GetUtcNow() + TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.Null(await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(5));
        var retry = await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None);

        Assert.Equal(id, retry?.Id);
    }

    [Fact]
    public async Task ReleaseAsync_ByHolder_DueAgainAtOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = redis.Create(time);
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);
        await storage.ClaimNextDueAsync("w1", Lease, CancellationToken.None);

        await storage.ReleaseAsync(id, "other", CancellationToken.None);
        Assert.Null(await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None));
        await storage.ReleaseAsync(id, "w1", CancellationToken.None);

        Assert.Equal(id, (await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None))?.Id);
    }

    [Fact]
    public async Task RemoveAsync_Claimed_NeverClaimedAgain()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = redis.Create(time);
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);
        await storage.ClaimNextDueAsync("w1", Lease, CancellationToken.None);

        await storage.RemoveAsync(id, CancellationToken.None);
        time.Advance(Lease * 2);

        Assert.Null(await storage.ClaimNextDueAsync("w2", Lease, CancellationToken.None));
    }

    [Fact]
    public async Task WaitForWorkAsync_WriteFromOtherConnection_ReturnsBeforeTimeout()
    {
        await using var sameQueue = redis.Create(TimeProvider.System, prefix: "w" + Guid.NewGuid().ToString("N")[..8] + ":");
        await using var writer = redis.Create(TimeProvider.System, prefix: PrefixOf(sameQueue));
        await sameQueue.WaitForWorkAsync(TimeSpan.FromMilliseconds(10), CancellationToken.None); // subscribes

        var started = System.Diagnostics.Stopwatch.StartNew();
        var wait = sameQueue.WaitForWorkAsync(TimeSpan.FromSeconds(20), CancellationToken.None).AsTask();
        await writer.WriteAsync(Guid.NewGuid().ToString("N"), Sample(), DateTimeOffset.UtcNow, CancellationToken.None);
        await wait.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task LoadAllAsync_QueueKeysPresent_ListsOnlyMessages()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storage = redis.Create(time);
        var ids = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid().ToString("N")).ToHashSet();
        foreach (var id in ids)
        {
            await storage.WriteAsync(id, Sample(), time.GetUtcNow() + TimeSpan.FromMinutes(1), CancellationToken.None);
        }
        await storage.ClaimNextDueAsync("w1", Lease, CancellationToken.None);

        var listed = new HashSet<string>();
        await foreach (var m in storage.LoadAllAsync(CancellationToken.None))
        {
            listed.Add(m.Id);
        }

        Assert.Equal(ids, listed);
    }

    [Fact]
    public async Task GetAsync_UnknownLayoutVersion_ThrowsInvalidData()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var prefix = "v" + Guid.NewGuid().ToString("N")[..8] + ":";
        await using var storage = redis.Create(time, prefix);
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, Sample(), time.GetUtcNow(), CancellationToken.None);
        await using (var raw = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port}"))
        {
            await raw.GetDatabase().HashSetAsync(prefix + id, "v", 99);
        }

        await Assert.ThrowsAsync<InvalidDataException>(async () => await storage.GetAsync(id, CancellationToken.None));
    }

    private static string PrefixOf(RedisStorage storage) => storage.Prefix;
}
