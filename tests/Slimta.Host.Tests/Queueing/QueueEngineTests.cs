using MimeKit;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

public sealed class QueueEngineTests
{
    private static readonly Reply Deferred = new(451, "4.4.1", "next hop not answering");
    private static readonly Reply Ok = new(250, "2.0.0", "ok");

    /// <summary>Bounces (null sender) are delivered; everything else gets <paramref name="reply"/>.</summary>
    private static Func<Envelope, int, RelayResult> FailAllButBounces(Reply reply) => (env, _) =>
        env.IsNullSender ? RelayResult.Delivered(env.Recipients.Count, Ok) : RelayResult.ForAll(env.Recipients.Count, RecipientResult.FromReply(reply).Outcome, reply, "mx.remote.test:25");

    private static MessageDeliveryStatus DeliveryStatusOf(Envelope bounce)
    {
        var message = MimeMessage.Load(new MemoryStream(bounce.Message.Bytes.ToArray()));
        var report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("delivery-status", report.ReportType);
        return Assert.Single(message.BodyParts.OfType<MessageDeliveryStatus>());
    }

    [Fact]
    public async Task Attempt_TransientFailuresWithDelay300xMaximum3_AttemptsAt0_300_900_1800ThenBounces()
    {
        await using var h = new EngineHarness(FailAllButBounces(Deferred), RetrySchedule.Create("300*x", 3, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        var results = await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("sender@client.test", "rcpt@remote.test"), CancellationToken.None);
        var id = Assert.Single(results).Id!;

        var offsets = new List<double>();
        for (int attempt = 0; attempt < 4; attempt++)
        {
            var call = await h.Relay.NextCallAsync();
            Assert.Equal(id, call.Envelope.Id);
            Assert.Equal(attempt, call.Attempts);
            offsets.Add((call.At - h.Start).TotalSeconds);
            var (_, next) = await h.NextFinishedAsync();
            if (attempt < 3)
            {
                Assert.NotNull(next);
                h.Time.Advance(next!.Value - h.Time.GetUtcNow());
            }
            else
            {
                Assert.Null(next);
            }
        }
        Assert.Equal([0, 300, 900, 1800], offsets);

        var bounceCall = await h.Relay.NextCallAsync();
        Assert.True(bounceCall.Envelope.IsNullSender);
        Assert.Equal(["sender@client.test"], bounceCall.Envelope.Recipients);
        var status = DeliveryStatusOf(bounceCall.Envelope);
        Assert.Equal("dns; mta.test.example", status.StatusGroups[0]["Reporting-MTA"]);
        var rcpt = status.StatusGroups[1];
        Assert.Equal("rfc822; rcpt@remote.test", rcpt["Final-Recipient"]);
        Assert.Equal("failed", rcpt["Action"]);
        Assert.Equal("4.4.1", rcpt["Status"]);
        Assert.Equal("dns; mx.remote.test", rcpt["Remote-MTA"]);
        Assert.Equal("smtp; 451 4.4.1 next hop not answering (too many retries)", rcpt["Diagnostic-Code"]);

        await h.NextFinishedAsync();
        Assert.Equal(0, await h.CountStoredAsync());
    }

    [Fact]
    public async Task Attempt_PartialDelivery_RetriesOnlyTheDeferredRecipient()
    {
        var answer = (Envelope env, int attempts) => attempts == 0
            ? new RelayResult([new(DeliveryOutcome.Delivered, Ok), new(DeliveryOutcome.TransientFailure, Deferred)])
            : RelayResult.Delivered(env.Recipients.Count, Ok);
        await using var h = new EngineHarness(answer, RetrySchedule.Create("60", 5, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "one@remote.test", "two@remote.test"), CancellationToken.None);

        var first = await h.Relay.NextCallAsync();
        Assert.Equal(["one@remote.test", "two@remote.test"], first.Envelope.Recipients);
        var (id, next) = await h.NextFinishedAsync();
        Assert.Equal(h.Start.AddSeconds(60), next);
        var stored = await h.Storage.GetAsync(id, CancellationToken.None);
        Assert.Equal([0], stored!.Delivered.Order());
        Assert.Equal(1, stored.Attempts);

        h.Time.Advance(TimeSpan.FromSeconds(60));
        var second = await h.Relay.NextCallAsync();
        Assert.Equal(["two@remote.test"], second.Envelope.Recipients);
        Assert.Equal((null as DateTimeOffset?, id), ((await h.NextFinishedAsync()).Next, id));
        Assert.Equal(0, await h.CountStoredAsync());
        Assert.False(h.Relay.TryGetCall(out _));
    }

    [Fact]
    public async Task Attempt_PermanentFailuresWithTwoDistinctReplies_SendsOneBouncePerReply()
    {
        var unknown = new Reply(550, "5.1.1", "no such user");
        var full = new Reply(552, "5.2.2", "mailbox full");
        var answer = (Envelope env, int _) => env.IsNullSender
            ? RelayResult.Delivered(env.Recipients.Count, Ok)
            : new RelayResult([new(DeliveryOutcome.PermanentFailure, unknown), new(DeliveryOutcome.PermanentFailure, full), new(DeliveryOutcome.PermanentFailure, unknown), new(DeliveryOutcome.Delivered, Ok)]);
        await using var h = new EngineHarness(answer, RetrySchedule.Create("60", 5, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "a@remote.test", "b@remote.test", "c@remote.test", "d@remote.test"), CancellationToken.None);

        await h.Relay.NextCallAsync();
        var bounces = new[] { await h.Relay.NextCallAsync(), await h.Relay.NextCallAsync() };
        var byStatus = bounces.Select(b => DeliveryStatusOf(b.Envelope)).ToDictionary(s => s.StatusGroups[1]["Status"]!);
        Assert.Equal(2, byStatus["5.1.1"].StatusGroups.Count - 1);
        Assert.Equal("rfc822; a@remote.test", byStatus["5.1.1"].StatusGroups[1]["Final-Recipient"]);
        Assert.Equal("rfc822; c@remote.test", byStatus["5.1.1"].StatusGroups[2]["Final-Recipient"]);
        Assert.Equal("rfc822; b@remote.test", Assert.Single(byStatus["5.2.2"].StatusGroups.Skip(1))["Final-Recipient"]);
        for (int i = 0; i < 3; i++)
        {
            await h.NextFinishedAsync();
        }
        Assert.Equal(0, await h.CountStoredAsync());
    }

    [Fact]
    public async Task Attempt_NullSenderFailsPermanently_NoBounce()
    {
        // A bounce that fails is never bounced: the relay refuses everything here.
        await using var h = new EngineHarness((env, _) => RelayResult.Permanent(env.Recipients.Count, new Reply(550, "5.1.1", "no")), null);
        await h.Engine.StartAsync(CancellationToken.None);
        await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("", "rcpt@remote.test"), CancellationToken.None);
        await h.Relay.NextCallAsync();
        Assert.Null((await h.NextFinishedAsync()).Next);
        Assert.Equal(0, await h.CountStoredAsync());
        Assert.False(h.Relay.TryGetCall(out _));
    }

    [Fact]
    public async Task Attempt_NoRetryBlock_FirstTransientFailureBounces()
    {
        await using var h = new EngineHarness(FailAllButBounces(Deferred), retry: null);
        await h.Engine.StartAsync(CancellationToken.None);
        await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "r@remote.test"), CancellationToken.None);
        await h.Relay.NextCallAsync();
        var bounce = await h.Relay.NextCallAsync();
        Assert.Contains("(too many retries)", DeliveryStatusOf(bounce.Envelope).StatusGroups[1]["Diagnostic-Code"]);
    }

    [Fact]
    public async Task Attempt_RelayThrows_DefersLikeATransientFailure()
    {
        await using var h = new EngineHarness((_, _) => throw new IOException("connection reset"), RetrySchedule.Create("120", 5, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);
        var id = (await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "r@remote.test"), CancellationToken.None))[0].Id!;
        await h.Relay.NextCallAsync();
        var (_, next) = await h.NextFinishedAsync();
        Assert.Equal(h.Start.AddSeconds(120), next);
        var stored = await h.Storage.GetAsync(id, CancellationToken.None);
        Assert.Equal(1, stored!.Attempts);
        Assert.Equal(next, stored.NextAttempt);
    }

    [Fact]
    public async Task Start_StoredMessagesDueInThePast_AttemptsThemAtOnce()
    {
        await using var h = new EngineHarness((env, _) => RelayResult.Delivered(env.Recipients.Count, Ok), null);
        await h.Storage.WriteAsync("stored1", EngineHarness.NewEnvelope("s@client.test", "r@remote.test"), h.Start.AddHours(-1), CancellationToken.None);
        await h.Storage.WriteAsync("stored2", EngineHarness.NewEnvelope("s@client.test", "r@remote.test"), h.Start.AddHours(1), CancellationToken.None);
        await h.Engine.StartAsync(CancellationToken.None);

        var call = await h.Relay.NextCallAsync();
        Assert.Equal("stored1", call.Envelope.Id);
        await h.NextFinishedAsync();
        Assert.False(h.Relay.TryGetCall(out _));
        h.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal("stored2", (await h.Relay.NextCallAsync()).Envelope.Id);
    }

    [Fact]
    public async Task Enqueue_StorageFails_Returns451AndNothingIsAttempted()
    {
        var broken = new FailingStorage();
        await using var h = new EngineHarness((env, _) => RelayResult.Delivered(env.Recipients.Count, Ok), null, broken);
        await h.Engine.StartAsync(CancellationToken.None);
        var result = Assert.Single(await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "r@remote.test"), CancellationToken.None));
        Assert.False(result.IsAccepted);
        Assert.Equal(451, result.Reply!.Code);
        Assert.Equal("4.3.0", result.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task Enqueue_PolicyThrows_Returns451AndNothingIsStoredOrAttempted()
    {
        await using var h = new EngineHarness((env, _) => RelayResult.Delivered(env.Recipients.Count, Ok), null, policies: [new ThrowingPolicy()]);
        await h.Engine.StartAsync(CancellationToken.None);
        var result = Assert.Single(await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "r@remote.test"), CancellationToken.None));
        Assert.False(result.IsAccepted);
        Assert.Equal(451, result.Reply!.Code);
        Assert.Equal("4.3.0", result.Reply.EnhancedStatus);
        Assert.Equal(0, await h.CountStoredAsync());
        Assert.False(h.Relay.TryGetCall(out _));
    }

    [Fact]
    public async Task Enqueue_SplittingPolicy_StoresEachEnvelopeUnderItsOwnId()
    {
        await using var h = new EngineHarness((env, _) => RelayResult.Delivered(env.Recipients.Count, Ok), null, policies: [new SplitPerRecipient()]);
        await h.Engine.StartAsync(CancellationToken.None);
        var results = await h.Engine.EnqueueAsync(EngineHarness.NewEnvelope("s@client.test", "a@x.test", "b@y.test"), CancellationToken.None);
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.True(r.IsAccepted));
        Assert.NotEqual(results[0].Id, results[1].Id);
        var calls = new[] { await h.Relay.NextCallAsync(), await h.Relay.NextCallAsync() };
        Assert.Equal(["a@x.test", "b@y.test"], calls.SelectMany(c => c.Envelope.Recipients).Order());
    }

    [Theory]
    [InlineData("300*", "queue.q.retry.delay")]
    [InlineData("nosuchfunction(x)", "queue.q.retry.delay")]
    [InlineData("-5", "queue.q.retry.delay")]
    [InlineData("x > 1", "queue.q.retry.delay")]
    [InlineData("300*(x", "queue.q.retry.delay")]
    [InlineData("'text'", "queue.q.retry.delay")]
    public void RetryScheduleCreate_BadExpression_ConfigErrorNamesKeyPath(string expression, string path)
    {
        var e = Assert.Throws<ConfigException>(() => RetrySchedule.Create(expression, 3, "queue.q.retry"));
        Assert.Equal(path, e.KeyPath);
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Theory]
    [InlineData("300*x", 2, 600)]
    [InlineData("min(60*pow(2, x), 3600)", 3, 480)]
    [InlineData("min(60*pow(2, x), 3600)", 10, 3600)]
    [InlineData("ceil(x/2)*10", 3, 20)]
    [InlineData("300", 7, 300)]
    [InlineData("Max(x, 5) + sqrt(16)", 1, 9)]
    public void RetryScheduleDelayAfter_SlimtaExpressions_GiveSlimtaDelays(string expression, int attempts, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetrySchedule.Create(expression, 5, "queue.q.retry").DelayAfter(attempts));
    }

    /// <summary>Like spamassassin with spamd down: the policy cannot decide, so it throws.</summary>
    private sealed class ThrowingPolicy : IQueuePolicy
    {
        public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken) =>
            throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused);
    }

    private sealed class SplitPerRecipient : IQueuePolicy
    {
        public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<Envelope>?>(envelope.Recipients.Select(r => envelope.CopyWithRecipients([r])).ToList());
    }

    /// <summary>A storage whose disk is gone: every write fails (an outage, not a fake of a component under test).</summary>
    private sealed class FailingStorage : IQueueStorage
    {
        public ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken) => throw new IOException("No space left on device");
        public ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken) => throw new IOException("No space left on device");
        public ValueTask<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken) => throw new IOException("No space left on device");
        public ValueTask SetRecipientsDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken) => throw new IOException("No space left on device");
        public async IAsyncEnumerable<ScheduledMessage> LoadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            yield break;
        }
        public ValueTask<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken) => ValueTask.FromResult<StoredMessage?>(null);
        public ValueTask RemoveAsync(string id, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
