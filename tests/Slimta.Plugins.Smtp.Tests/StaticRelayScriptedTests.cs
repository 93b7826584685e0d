using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Relaying;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;
using static Slimta.Smtp.Tests.Client.ScriptedSmtpServer;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>The static relay against exact scripted transcripts.</summary>
public sealed class StaticRelayScriptedTests
{
    private const string Greeting = "220 mx.test ESMTP\r\n";
    private const string Ehlo = "EHLO testhost.example\r\n";
    private const string EhloReply = "250-mx.test\r\n250 PIPELINING\r\n";
    private const string Group = "MAIL FROM:<sender@x.test>\r\nRCPT TO:<rcpt@x.test>\r\nDATA\r\n";

    private static async Task DisposeAsync(IRelay relay) => await ((IAsyncDisposable)relay).DisposeAsync();

    [Fact]
    public async Task AttemptAsync_Greeting421_TransientForAll()
    {
        await using var server = Start(Send("421 4.3.2 busy\r\n"), Close());
        var relay = CreateStatic(server.Port);

        var result = await relay.AttemptAsync(Envelope("m\r\n", "a@x.test", "b@x.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.TransientFailure, r.Outcome));
        Assert.All(result.Recipients, r => Assert.Equal(421, r.Reply.Code));
    }

    [Fact]
    public async Task AttemptAsync_DropAfterFinal250_Delivered()
    {
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send(EhloReply),
            Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"),
            Expect("m\r\n.\r\n"), Send("250 2.0.0 queued\r\n"), Close());
        var relay = CreateStatic(server.Port);

        var result = await relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.Equal(DeliveryOutcome.Delivered, Assert.Single(result.Recipients).Outcome);
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_DropMidData_TransientForAll()
    {
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send(EhloReply),
            Expect("MAIL FROM:<sender@x.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"),
            Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            Skip(4), Close());
        var relay = CreateStatic(server.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: long\r\n\r\n" + new string('x', 200_000) + "\r\n", "a@x.test", "b@x.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.TransientFailure, r.Outcome));
        Assert.All(result.Recipients, r => Assert.Equal("4.4.2", r.Reply.EnhancedStatus));
    }

    [Fact]
    public async Task AttemptAsync_MixedRcptReplies_OutcomePerRecipient()
    {
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send(EhloReply),
            Expect("MAIL FROM:<sender@x.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n"),
            Send("250 ok\r\n250 ok\r\n550 5.1.1 unknown user\r\n451 4.3.0 try later\r\n354 go\r\n"),
            Expect("m\r\n.\r\n"), Send("250 2.0.0 ok\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        var relay = CreateStatic(server.Port);

        var result = await relay.AttemptAsync(Envelope("m\r\n", "a@x.test", "b@x.test", "c@x.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.Equal(
            [DeliveryOutcome.Delivered, DeliveryOutcome.PermanentFailure, DeliveryOutcome.TransientFailure],
            result.Recipients.Select(r => r.Outcome));
        Assert.Equal("550 5.1.1 unknown user", result.Recipients[1].Reply.ToString());
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_SecondMessage_ReusesSessionWithRsetPipelined()
    {
        // The liveness check of a reused session rides in the transaction's pipelined group
        // (RFC 2920 §3.1): no round trip of its own.
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send(EhloReply),
            Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("one\r\n.\r\n"), Send("250 ok\r\n"),
            Expect("RSET\r\n" + Group), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"), Expect("two\r\n.\r\n"), Send("250 ok\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        var relay = CreateStatic(server.Port);

        var first = await relay.AttemptAsync(Envelope("one\r\n"), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope("two\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(first.AllDelivered && second.AllDelivered);
        await server.Completion;
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task AttemptAsync_ReusedSessionFailsRset_OpensNewSession()
    {
        await using var server = StartMany(
            [
                Send(Greeting), Expect(Ehlo), Send(EhloReply),
                Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("one\r\n.\r\n"), Send("250 ok\r\n"),
                Expect("RSET\r\n" + Group), Send("421 4.4.2 idle too long\r\n"), Close(),
            ],
            [
                Send(Greeting), Expect(Ehlo), Send(EhloReply),
                Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("two\r\n.\r\n"), Send("250 ok\r\n"),
                Expect("QUIT\r\n"), Send("221 bye\r\n"),
            ]);
        var relay = CreateStatic(server.Port);

        await relay.AttemptAsync(Envelope("one\r\n"), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope("two\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(second.AllDelivered);
        await server.Completion;
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task AttemptAsync_ReusedSessionClosedWhileIdle_DeliveredOnNewSession()
    {
        await using var server = StartMany(
            [
                Send(Greeting), Expect(Ehlo), Send(EhloReply),
                Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("one\r\n.\r\n"), Send("250 ok\r\n"),
                Close(),
            ],
            [
                Send(Greeting), Expect(Ehlo), Send(EhloReply),
                Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("two\r\n.\r\n"), Send("250 ok\r\n"),
                Expect("QUIT\r\n"), Send("221 bye\r\n"),
            ]);
        var relay = CreateStatic(server.Port);

        var first = await relay.AttemptAsync(Envelope("one\r\n"), 0, CancellationToken.None);
        await Task.Delay(100);   // the server's close reaches the idle session
        var second = await relay.AttemptAsync(Envelope("two\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(first.AllDelivered);
        Assert.True(second.AllDelivered);
        await server.Completion;
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task AttemptAsync_ReusedSessionWithoutPipelining_RsetAloneFirst()
    {
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send("250 mx.test\r\n"),
            Expect("MAIL FROM:<sender@x.test>\r\n"), Send("250 ok\r\n"), Expect("RCPT TO:<rcpt@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("DATA\r\n"), Send("354 go\r\n"), Expect("one\r\n.\r\n"), Send("250 ok\r\n"),
            Expect("RSET\r\n"), Send("250 ok\r\n"),
            Expect("MAIL FROM:<sender@x.test>\r\n"), Send("250 ok\r\n"), Expect("RCPT TO:<rcpt@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("DATA\r\n"), Send("354 go\r\n"), Expect("two\r\n.\r\n"), Send("250 ok\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        var relay = CreateStatic(server.Port);

        var first = await relay.AttemptAsync(Envelope("one\r\n"), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope("two\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(first.AllDelivered && second.AllDelivered);
        await server.Completion;
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task AttemptAsync_ServerStallsAfterData_TransientAfterDataTimeoutOnFakeClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send(EhloReply),
            Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("m\r\n.\r\n"), Hang());
        var relay = CreateStatic(server.Port, time, ("data_timeout", 60));

        var attempt = relay.AttemptAsync(Envelope("m\r\n"), 0, CancellationToken.None).AsTask();
        await server.Hanging.WaitAsync(TimeSpan.FromSeconds(10));
        // The client arms its timer after the server saw the dot; advance until it fires.
        for (int i = 0; i < 100 && !attempt.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(61));
            await Task.WhenAny(attempt, Task.Delay(50));
        }
        var result = await attempt.WaitAsync(TimeSpan.FromSeconds(10));
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Contains("timed out", only.Reply.Text);
    }
}
