using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;
using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>The host's queue engine over the aws storage: edges that only store, workers that claim through SQS, and the local mode.</summary>
[Collection(AwsCollection.Name)]
public sealed class SharedEngineTests(AwsFixture aws)
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
        var prefix = AwsFixture.NewPrefix("e");
        var queue = aws.NewQueue();
        var time = TimeProvider.System;
        await using var edgeStorage = (IAsyncDisposable)aws.Create(time, prefix, queue);
        await using var storageA = (IAsyncDisposable)aws.Create(time, prefix, queue);
        await using var storageB = (IAsyncDisposable)aws.Create(time, prefix, queue);
        var relayA = CountingRelay.DeliverAll("a");
        var relayB = CountingRelay.DeliverAll("b");
        await using var edge = Engine((IQueueStorage)edgeStorage, null, time);
        await using var workerA = Engine((IQueueStorage)storageA, relayA, time);
        await using var workerB = Engine((IQueueStorage)storageB, relayB, time);
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
        await WaitUntilAsync(() => relayA.Calls.Count + relayB.Calls.Count >= ids.Count, TimeSpan.FromSeconds(30));
        await WaitUntilAsync(() => workerA.InFlightCount + workerB.InFlightCount == 0, TimeSpan.FromSeconds(10));
        await Task.Delay(300);

        var delivered = relayA.Calls.Concat(relayB.Calls).Select(c => c.Id).ToList();
        Assert.Equal(ids.Order(), delivered.Order());
        Assert.NotEmpty(relayA.Calls);
        Assert.NotEmpty(relayB.Calls);
        Assert.Empty(await ToListAsync(((IQueueStorage)edgeStorage).LoadAllAsync(CancellationToken.None)));
        Assert.Empty(aws.Sqs.Bodies(queue));
    }

    [Fact]
    public async Task Attempt_TransientFailure_RetryDueLaterForOtherWorker()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sqs = SqsServer.Start(time);
        var queue = "retry" + Guid.NewGuid().ToString("N")[..8];
        sqs.CreateQueue(queue);
        var prefix = AwsFixture.NewPrefix("r");
        await using var storageA = aws.CreateShared(time, prefix, queue, sqs: sqs);
        await using var storageB = aws.CreateShared(time, prefix, queue, sqs: sqs);
        var relayA = new CountingRelay((env, _) => Task.FromResult(RelayResult.Transient(env.Recipients.Count, Deferred))) { Name = "a" };
        var relayB = CountingRelay.DeliverAll("b");
        var retry = RetrySchedule.Create("600", 5, "queue.q.retry");
        await using var workerA = Engine(storageA, relayA, time, retry);
        await workerA.StartAsync(CancellationToken.None);
        var id = Assert.Single(await workerA.EnqueueAsync(NewEnvelope(1), CancellationToken.None)).Id!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (relayA.Calls.IsEmpty && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromSeconds(1)); // the notice's 1-second delay; the engine's poll interval
            await Task.Delay(50);
        }
        await WaitUntilAsync(() => relayA.Calls.Count == 1 && workerA.InFlightCount == 0, TimeSpan.FromSeconds(10));
        await workerA.StopAsync(CancellationToken.None);
        await using var workerB = Engine(storageB, relayB, time, retry);
        await workerB.StartAsync(CancellationToken.None);

        Assert.Equal(1, (await storageB.GetAsync(id, CancellationToken.None))!.Attempts);
        await Task.Delay(1500); // real time: the retry is 600 s of fake time away
        Assert.Empty(relayB.Calls);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (relayB.Calls.IsEmpty && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromSeconds(30));
            await Task.Delay(50);
        }

        var call = Assert.Single(relayB.Calls);
        Assert.Equal((id, 1), (call.Id, call.Attempts));
    }

    [Fact]
    public async Task StopAsync_AttemptAborted_ClaimReleasedForOtherWorkerAtOnce()
    {
        var prefix = AwsFixture.NewPrefix("x");
        var queue = aws.NewQueue();
        var time = TimeProvider.System;
        await using var storageA = aws.CreateShared(time, prefix, queue, leaseSeconds: 600);
        await using var storageB = aws.CreateShared(time, prefix, queue, leaseSeconds: 600);
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
    public async Task EnqueueAsync_S3Unreachable_Refused451()
    {
        var extra = new[] { ("s3_service_url", $"http://127.0.0.1:{FreePort.Next()}/") };
        await using var storage = (IAsyncDisposable)aws.Create(TimeProvider.System, AwsFixture.NewPrefix("u"), aws.NewQueue(), extra: extra);
        await using var edge = Engine((IQueueStorage)storage, null, TimeProvider.System);
        await edge.StartAsync(CancellationToken.None);

        var result = Assert.Single(await edge.EnqueueAsync(NewEnvelope(1), CancellationToken.None));

        Assert.False(result.IsAccepted);
        Assert.Equal((451, "4.3.0"), (result.Reply!.Code, result.Reply.EnhancedStatus));
    }

    [Fact]
    public async Task EnqueueAsync_SqsQueueMissing_Refused451()
    {
        await using var storage = (IAsyncDisposable)aws.Create(TimeProvider.System, AwsFixture.NewPrefix("m"), "nosuchqueue" + Guid.NewGuid().ToString("N")[..6]);
        await using var edge = Engine((IQueueStorage)storage, null, TimeProvider.System);
        await edge.StartAsync(CancellationToken.None);

        var result = Assert.Single(await edge.EnqueueAsync(NewEnvelope(1), CancellationToken.None));

        Assert.Equal(451, result.Reply!.Code);
    }

    [Fact]
    public async Task StartAsync_LocalQueueWithStoredMessages_DeliversThemAfterRestart()
    {
        var prefix = AwsFixture.NewPrefix("l");
        var time = TimeProvider.System;
        var ids = new List<string>();
        await using (var storage = (IAsyncDisposable)aws.Create(time, prefix, null))
        {
            await using var edge = Engine((IQueueStorage)storage, null, time);
            await edge.StartAsync(CancellationToken.None);
            for (int i = 0; i < 5; i++)
            {
                ids.Add(Assert.Single(await edge.EnqueueAsync(NewEnvelope(i), CancellationToken.None)).Id!);
            }
        }
        await using var restarted = (IAsyncDisposable)aws.Create(time, prefix, null);
        var relay = CountingRelay.DeliverAll("local");
        await using var engine = Engine((IQueueStorage)restarted, relay, time);
        Assert.False(engine.IsShared);

        await engine.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => relay.Calls.Count == ids.Count && engine.InFlightCount == 0, TimeSpan.FromSeconds(20));

        Assert.Equal(ids.Order(), relay.Calls.Select(c => c.Id).Order());
        Assert.Empty(await ToListAsync(((IQueueStorage)restarted).LoadAllAsync(CancellationToken.None)));
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
