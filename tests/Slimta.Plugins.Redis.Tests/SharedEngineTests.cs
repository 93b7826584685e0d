using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;

namespace Slimta.Plugins.Redis.Tests;

/// <summary>The host's queue engine in shared mode over a real redis-server: edges that only store, workers that claim.</summary>
public sealed class SharedEngineTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly Reply Deferred = new(451, "4.4.1", "try later");

    private static Envelope NewEnvelope(int n) =>
        new("sender@client.test", ["rcpt@remote.test"], RawMessage.FromString($"Subject: {n}\r\n\r\nbody {n}\r\n"));

    private static QueueEngine Engine(IQueueStorage storage, IRelay? relay, TimeProvider time, RetrySchedule? retry = null) =>
        new("q", storage, relay, [], retry, new BounceBuilder("mta.test", time), time, NullLogger.Instance);

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task EnqueueAsync_EdgeWithoutRelayAndTwoWorkers_EachMessageDeliveredOnce()
    {
        var prefix = "e" + Guid.NewGuid().ToString("N")[..8] + ":";
        var time = TimeProvider.System;
        await using var edgeStorage = redis.Create(time, prefix);
        await using var storageA = redis.Create(time, prefix);
        await using var storageB = redis.Create(time, prefix);
        var relayA = CountingRelay.DeliverAll("a");
        var relayB = CountingRelay.DeliverAll("b");
        await using var edge = Engine(edgeStorage, null, time);
        await using var workerA = Engine(storageA, relayA, time);
        await using var workerB = Engine(storageB, relayB, time);
        Assert.True(edge.IsShared && workerA.IsShared);
        await edge.StartAsync(CancellationToken.None);
        await workerA.StartAsync(CancellationToken.None);
        await workerB.StartAsync(CancellationToken.None);

        var ids = new List<string>();
        for (int i = 0; i < 100; i++)
        {
            var result = Assert.Single(await edge.EnqueueAsync(NewEnvelope(i), CancellationToken.None));
            Assert.True(result.IsAccepted);
            ids.Add(result.Id!);
        }
        await WaitUntilAsync(() => relayA.Calls.Count + relayB.Calls.Count >= ids.Count, TimeSpan.FromSeconds(20));
        await Task.Delay(300);

        var delivered = relayA.Calls.Concat(relayB.Calls).Select(c => c.Id).ToList();
        Assert.Equal(ids.OrderBy(x => x), delivered.OrderBy(x => x));
        Assert.Empty(await ToListAsync(edgeStorage.LoadAllAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task Attempt_TransientFailure_RetryVisibleToOtherWorker()
    {
        var prefix = "r" + Guid.NewGuid().ToString("N")[..8] + ":";
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var storageA = redis.Create(time, prefix);
        await using var storageB = redis.Create(time, prefix);
        var relayA = new CountingRelay((env, _) => Task.FromResult(RelayResult.Transient(env.Recipients.Count, Deferred))) { Name = "a" };
        var relayB = CountingRelay.DeliverAll("b");
        var retry = RetrySchedule.Create("600", 5, "queue.q.retry");
        await using var workerA = Engine(storageA, relayA, time, retry);
        await workerA.StartAsync(CancellationToken.None);
        var id = Assert.Single(await workerA.EnqueueAsync(NewEnvelope(1), CancellationToken.None)).Id!;
        await WaitUntilAsync(() => relayA.Calls.Count == 1 && workerA.InFlightCount == 0, TimeSpan.FromSeconds(10));
        await workerA.StopAsync(CancellationToken.None);
        await using var workerB = Engine(storageB, relayB, time, retry);
        await workerB.StartAsync(CancellationToken.None);

        Assert.Equal(1, (await storageB.GetAsync(id, CancellationToken.None))!.Attempts);
        Assert.Empty(relayB.Calls);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (relayB.Calls.IsEmpty && DateTime.UtcNow < deadline)
        {
            // Workers poll the schedule every SharedPollInterval of (fake) time.
            time.Advance(TimeSpan.FromSeconds(30));
            await Task.Delay(20);
        }

        var call = Assert.Single(relayB.Calls);
        Assert.Equal((id, 1), (call.Id, call.Attempts));
    }

    [Fact]
    public async Task Attempt_SlowerThanLease_RenewedSoNoSecondWorkerDelivers()
    {
        var prefix = "s" + Guid.NewGuid().ToString("N")[..8] + ":";
        var time = TimeProvider.System;
        // Real time: renewals every lease/3 must not be starved past the lease by a loaded machine,
        // so the lease is 3 s (a 1 s lease failed once with the load average above 7) and the
        // attempt outlasts two of them.
        await using var storageA = redis.Create(time, prefix, leaseSeconds: 3);
        await using var storageB = redis.Create(time, prefix, leaseSeconds: 3);
        var slow = new CountingRelay(async (env, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(7));
            return RelayResult.Delivered(env.Recipients.Count, new Reply(250, "2.0.0", "ok"));
        }) { Name = "slow" };
        var other = CountingRelay.DeliverAll("other");
        await using var workerA = Engine(storageA, slow, time);
        await workerA.StartAsync(CancellationToken.None);
        var id = Assert.Single(await workerA.EnqueueAsync(NewEnvelope(1), CancellationToken.None)).Id!;
        await WaitUntilAsync(() => slow.Calls.Count == 1, TimeSpan.FromSeconds(10));
        await using var workerB = Engine(storageB, other, time);
        await workerB.StartAsync(CancellationToken.None);

        await WaitUntilAsync(() => workerA.InFlightCount == 0, TimeSpan.FromSeconds(20));
        await Task.Delay(1500);

        Assert.Empty(other.Calls);
        Assert.Null(await storageB.GetAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task StopAsync_AttemptAborted_ClaimReleasedForOtherWorkerAtOnce()
    {
        var prefix = "x" + Guid.NewGuid().ToString("N")[..8] + ":";
        var time = TimeProvider.System;
        await using var storageA = redis.Create(time, prefix, leaseSeconds: 600);
        await using var storageB = redis.Create(time, prefix, leaseSeconds: 600);
        var hanging = new CountingRelay(async (env, _) =>
        {
            await Task.Delay(Timeout.Infinite).WaitAsync(TimeSpan.FromSeconds(30));
            return RelayResult.Delivered(env.Recipients.Count, new Reply(250, "2.0.0", "ok"));
        }) { Name = "hang" };
        var other = CountingRelay.DeliverAll("other");
        var workerA = Engine(storageA, new CancellableRelay(hanging), time);
        await workerA.StartAsync(CancellationToken.None);
        var id = Assert.Single(await workerA.EnqueueAsync(NewEnvelope(1), CancellationToken.None)).Id!;
        await WaitUntilAsync(() => hanging.Calls.Count == 1, TimeSpan.FromSeconds(10));

        using (var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
        {
            await workerA.StopAsync(soon.Token);
        }
        await workerA.DisposeAsync();
        await using var workerB = Engine(storageB, other, time);
        await workerB.StartAsync(CancellationToken.None);

        await WaitUntilAsync(() => other.Calls.Count == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(id, other.Calls.Single().Id);
    }

    [Fact]
    public async Task EnqueueAsync_RedisUnreachable_Refused451()
    {
        int deadPort = Slimta.Testing.FreePort.Next();
        await using var storage = redis.Create(TimeProvider.System, port: deadPort);
        await using var edge = Engine(storage, null, TimeProvider.System);
        await edge.StartAsync(CancellationToken.None);

        var result = Assert.Single(await edge.EnqueueAsync(NewEnvelope(1), CancellationToken.None));

        Assert.False(result.IsAccepted);
        Assert.Equal(451, result.Reply!.Code);
        Assert.Equal("4.3.0", result.Reply.EnhancedStatus);
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
