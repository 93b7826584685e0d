using MimeKit;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

public sealed class DelayNoticeTests
{
    private static readonly Reply Deferred = new(451, "4.4.1", "next hop not answering");
    private static readonly Reply Ok = new(250, "2.0.0", "ok");

    /// <summary>Notices (auto-submitted, RFC 3834) are delivered; everything else is deferred.</summary>
    private static RelayResult FailAllButBounces(Envelope env, int attempts) =>
        env.Message.HasHeader("Auto-Submitted") ? RelayResult.Delivered(env.Recipients.Count, Ok) : RelayResult.Transient(env.Recipients.Count, Deferred, "mx.remote.test:25");

    /// <summary>When the notice was made (its attempt may reach the relay later).</summary>
    private static DateTimeOffset MadeAt(RelayCall notice) =>
        MimeMessage.Load(new MemoryStream(notice.Envelope.Message.Bytes.ToArray())).Date;

    private static BounceSettings Notices(int seconds) =>
        BounceSettings.Default with { DelayText = "Still trying for {sender} (id {queue_id}).", DelayNotice = TimeSpan.FromSeconds(seconds) };

    /// <summary>
    /// Runs <paramref name="attempts"/> attempts of the message, each at its scheduled time, and
    /// waits until <paramref name="expectedNotices"/> notices were relayed; returns every notice relayed.
    /// </summary>
    private static async Task<List<RelayCall>> RunAsync(EngineHarness h, Envelope envelope, int attempts, int expectedNotices)
    {
        var id = (await h.Engine.EnqueueAsync(envelope, CancellationToken.None))[0].Id!;
        int others = 0;
        for (int i = 0; i < attempts; i++)
        {
            while (true)
            {
                var (finished, next) = await h.NextFinishedAsync();
                if (finished != id)
                {
                    others++;
                    continue;
                }
                if (i < attempts - 1)
                {
                    h.Time.Advance(next!.Value - h.Time.GetUtcNow());
                }
                break;
            }
        }
        while (others < expectedNotices)
        {
            await h.NextFinishedAsync();
            others++;
        }
        var calls = new List<RelayCall>();
        while (h.Relay.TryGetCall(out var call))
        {
            calls.Add(call!);
        }
        Assert.Equal(attempts, calls.Count(c => !c.Envelope.Message.HasHeader("Auto-Submitted")));
        return calls.Where(c => c.Envelope.Message.HasHeader("Auto-Submitted")).ToList();
    }

    [Fact]
    public async Task Attempt_DelayNotice600Retry300_OneNoticeAtTheAttemptAt600WithActionDelayed()
    {
        await using var h = new EngineHarness(FailAllButBounces, RetrySchedule.Create("300", 5, "queue.test.retry"), bounce: Notices(600));
        await h.Engine.StartAsync(CancellationToken.None);

        var notices = await RunAsync(h, EngineHarness.NewEnvelope("sender@client.test", "rcpt@remote.test"), attempts: 5, expectedNotices: 1);

        var notice = Assert.Single(notices);
        Assert.Equal(600, (MadeAt(notice) - h.Start).TotalSeconds);
        Assert.True(notice.Envelope.IsNullSender);
        Assert.Equal(["sender@client.test"], notice.Envelope.Recipients);
        var message = MimeMessage.Load(new MemoryStream(notice.Envelope.Message.Bytes.ToArray()));
        Assert.Equal("Delayed Mail (still being retried)", message.Subject);
        Assert.StartsWith("Still trying for sender@client.test (id ", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("<rcpt@remote.test>: 451 4.4.1 next hop not answering", message.TextBody, StringComparison.Ordinal);
        var status = Assert.Single(message.BodyParts.OfType<MessageDeliveryStatus>());
        var rcpt = status.StatusGroups[1];
        Assert.Equal("rfc822; rcpt@remote.test", rcpt["Final-Recipient"]);
        Assert.Equal("delayed", rcpt["Action"]);
        Assert.Equal("4.4.1", rcpt["Status"]);
        Assert.Equal("dns; mx.remote.test", rcpt["Remote-MTA"]);
        Assert.Equal("smtp; 451 4.4.1 next hop not answering", rcpt["Diagnostic-Code"]);
        // Attempt count 3 after this failure: retries follow after the delays for 3, 4 and 5 (900 s more).
        Assert.Equal(Rfc5322Date.Format(h.Start.AddSeconds(600 + 900)), rcpt["Will-Retry-Until"]);
    }

    [Fact]
    public async Task Attempt_DelayNoticeAlreadyDueAtFirstAttempt_NoticeOnTheFirstFailureOnly()
    {
        await using var h = new EngineHarness(FailAllButBounces, RetrySchedule.Create("300", 5, "queue.test.retry"), bounce: Notices(60));
        await h.Engine.StartAsync(CancellationToken.None);
        var envelope = EngineHarness.NewEnvelope("sender@client.test", "rcpt@remote.test");
        envelope.ReceivedAt = h.Start.AddHours(-1);

        var notices = await RunAsync(h, envelope, attempts: 3, expectedNotices: 1);

        Assert.Equal(0, (MadeAt(Assert.Single(notices)) - h.Start).TotalSeconds);
    }

    [Fact]
    public async Task Attempt_DelayNoticeNullSender_NoNotice()
    {
        await using var h = new EngineHarness(FailAllButBounces, RetrySchedule.Create("300", 5, "queue.test.retry"), bounce: Notices(300));
        await h.Engine.StartAsync(CancellationToken.None);

        var notices = await RunAsync(h, EngineHarness.NewEnvelope("", "rcpt@remote.test"), attempts: 3, expectedNotices: 0);

        Assert.Empty(notices);
    }

    [Fact]
    public async Task Attempt_NoDelayNoticeConfigured_NoNoticeHoweverLong()
    {
        await using var h = new EngineHarness(FailAllButBounces, RetrySchedule.Create("3600", 5, "queue.test.retry"));
        await h.Engine.StartAsync(CancellationToken.None);

        var notices = await RunAsync(h, EngineHarness.NewEnvelope("s@client.test", "rcpt@remote.test"), attempts: 4, expectedNotices: 0);

        Assert.Empty(notices);
    }
}
