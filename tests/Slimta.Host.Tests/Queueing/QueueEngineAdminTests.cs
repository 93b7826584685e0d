using System.Diagnostics.Metrics;
using MimeKit;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Metrics;
using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

/// <summary>The queue admin operations of the engine, over the memory storage with a fake clock.</summary>
public sealed class QueueEngineAdminTests
{
    private static readonly Reply Deferred = new(451, "4.4.1", "next hop not answering");
    private static readonly Reply Ok = new(250, "2.0.0", "ok");

    /// <summary>Bounces are delivered; everything else is deferred.</summary>
    private static RelayResult DeferAllButBounces(Envelope env, int attempts) =>
        env.IsNullSender ? RelayResult.Delivered(env.Recipients.Count, Ok) : RelayResult.ForAll(env.Recipients.Count, DeliveryOutcome.TransientFailure, Deferred, null);

    /// <summary>Enqueues a message and lets its first attempt be deferred (next attempt in 60 s).</summary>
    private static async Task<string> DeferredMessageAsync(EngineHarness h, string sender = "s@client.test")
    {
        var id = (await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope(sender, "r@remote.test"), CancellationToken.None))[0].Id!;
        Assert.Equal(id, (await h.Relay.NextCallAsync()).Envelope.Id);
        var (finished, next) = await h.NextFinishedAsync();
        Assert.Equal(id, finished);
        Assert.NotNull(next);
        return id;
    }

    [Fact]
    public async Task Hold_DueMessage_NotAttemptedUntilReleased()
    {
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        var held = await DeferredMessageAsync(h);

        var entry = await h.Engine.HoldAsync(held, CancellationToken.None);
        Assert.Equal("held", entry.State);
        Assert.Equal(QueueEngine.HeldUntil, (await h.Storage.GetAsync(held, CancellationToken.None))!.NextAttempt);
        Assert.Equal(1, h.Engine.HeldCount);

        // Well past its old due time, another message is attempted; the held one is not.
        h.Time.Advance(TimeSpan.FromHours(1));
        var other = await DeferredMessageAsync(h);
        Assert.NotEqual(held, other);
        Assert.False(h.Relay.TryGetCall(out _));

        await h.Engine.ReleaseAsync(held, CancellationToken.None);
        var call = await h.Relay.NextCallAsync();
        Assert.Equal(held, call.Envelope.Id);
        Assert.Equal(1, call.Attempts);
        Assert.Equal(0, h.Engine.HeldCount);
    }

    [Fact]
    public async Task Hold_EngineRestarted_StaysHeld()
    {
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        var id = await DeferredMessageAsync(h);
        await h.Engine.HoldAsync(id, CancellationToken.None);
        await h.Engine.StopAsync(CancellationToken.None);

        await using var restarted = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"), h.Storage);
        await restarted.Engine.StartAsync(CancellationToken.None);
        Assert.Equal(1, restarted.Engine.HeldCount);
        Assert.Equal(0, restarted.Engine.ScheduledCount);
        var listed = await restarted.Engine.ListAsync(null, CancellationToken.None).ToListAsync();
        Assert.Equal("held", Assert.Single(listed).State);
    }

    [Fact]
    public async Task FlushAll_WaitingMessages_AttemptedNowHeldOnesStay()
    {
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("3600", 10, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        var a = await DeferredMessageAsync(h);
        var b = await DeferredMessageAsync(h);
        var held = await DeferredMessageAsync(h);
        await h.Engine.HoldAsync(held, CancellationToken.None);

        var progress = new List<(int Done, int Total)>();
        int changed = await h.Engine.FlushAllAsync((d, t) => { progress.Add((d, t)); return ValueTask.CompletedTask; }, CancellationToken.None);
        Assert.Equal(2, changed);
        Assert.Equal((3, 3), progress[^1]);
        var again = new[] { (await h.Relay.NextCallAsync()).Envelope.Id, (await h.Relay.NextCallAsync()).Envelope.Id };
        Assert.Equal(new[] { a, b }.Order(), again.Order());

        await Assert.ThrowsAsync<QueueAdminException>(() => h.Engine.FlushAsync(held, CancellationToken.None));
    }

    [Fact]
    public async Task Delete_Message_RemovedWithoutBounce()
    {
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        var id = await DeferredMessageAsync(h);
        await h.Engine.DeleteAsync(id, CancellationToken.None);
        Assert.Null(await h.Storage.GetAsync(id, CancellationToken.None));
        Assert.Equal(0, h.Engine.ScheduledCount);
        h.Time.Advance(TimeSpan.FromHours(1));
        var other = await DeferredMessageAsync(h);
        Assert.NotEqual(id, other);
        Assert.False(h.Relay.TryGetCall(out _));
        var missing = await Assert.ThrowsAsync<QueueAdminException>(() => h.Engine.DeleteAsync(id, CancellationToken.None));
        Assert.Contains("no such message", missing.Message);
    }

    [Fact]
    public async Task Bounce_Message_Rfc3464ReportQueuedAndMessageRemoved()
    {
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        var id = await DeferredMessageAsync(h, "sender@client.test");
        var (entry, bounceId) = await h.Engine.BounceAsync(id, CancellationToken.None);
        Assert.Equal("bounced", entry.State);
        Assert.NotNull(bounceId);
        Assert.Null(await h.Storage.GetAsync(id, CancellationToken.None));

        var bounce = (await h.Relay.NextCallAsync()).Envelope;
        Assert.True(bounce.IsNullSender);
        Assert.Equal(["sender@client.test"], bounce.Recipients);
        var message = MimeMessage.Load(new MemoryStream(bounce.Message.Bytes.ToArray()));
        var status = Assert.Single(message.BodyParts.OfType<MessageDeliveryStatus>());
        Assert.Equal("failed", status.StatusGroups[1]["Action"]);
        Assert.Equal("5.0.0", status.StatusGroups[1]["Status"]);
        Assert.Contains("deleted by the administrator", status.StatusGroups[1]["Diagnostic-Code"]);
    }

    [Fact]
    public async Task Bounce_Message_CountedInBouncedMetric()
    {
        using var metrics = new SlimtaMetrics();
        long bounced = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter == metrics.Meter && i.Name == "slimta.messages.bounced")
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref bounced, v));
        listener.Start();
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"));
        h.Engine.Metrics = metrics.ForQueue("test", () => 0);
        await h.Engine.StartAsync(CancellationToken.None);
        var id = await DeferredMessageAsync(h, "sender@client.test");
        Assert.Equal(0, Interlocked.Read(ref bounced));

        await h.Engine.BounceAsync(id, CancellationToken.None);

        Assert.Equal(1, Interlocked.Read(ref bounced));
    }

    [Fact]
    public async Task Bounce_NullSender_RemovedWithoutBounce()
    {
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"));
        // Not started: the offline case (slimta queue --storage).
        var id = (await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("", "r@remote.test"), CancellationToken.None))[0].Id!;
        var (_, bounceId) = await h.Engine.BounceAsync(id, CancellationToken.None);
        Assert.Null(bounceId);
        Assert.Equal(0, await h.CountStoredAsync());
    }

    [Fact]
    public async Task List_NotStarted_ReadsTheStorageWithStates()
    {
        await using var h = new EngineHarness(DeferAllButBounces, RetrySchedule.Create("60", 10, "queue.test.retry"));
        var a = (await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "one@remote.test", "two@remote.test"), CancellationToken.None))[0].Id!;
        var b = (await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "three@remote.test"), CancellationToken.None))[0].Id!;
        await h.Storage.SetRecipientsDeliveredAsync(a, [0], CancellationToken.None);
        await h.Engine.HoldAsync(b, CancellationToken.None);
        int total = -1;
        var listed = await h.Engine.ListAsync(n => total = n, CancellationToken.None).ToDictionaryAsync(e => e.Id);
        Assert.Equal(2, total);
        Assert.Equal(["two@remote.test"], listed[a].PendingRecipients);
        Assert.Equal("queued", listed[a].State);
        Assert.Equal("held", listed[b].State);
    }

    [Fact]
    public async Task Commands_BadId_Refused()
    {
        await using var h = new EngineHarness(DeferAllButBounces, null);
        var e = await Assert.ThrowsAsync<QueueAdminException>(() => h.Engine.HoldAsync("../../etc/passwd", CancellationToken.None));
        Assert.Contains("not a queue id", e.Message);
    }
}
