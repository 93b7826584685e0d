using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Client;
using Slimta.Smtp.Tests.Client;
using Slimta.Testing;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;
using static Slimta.Smtp.Tests.Client.ScriptedSmtpServer;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>
/// Messages sent behind another message's final dot on a busy session (RFC 2920 §3.1), against
/// exact transcripts: the scripted server pauses after a group so that the test can start the next
/// delivery while the first one's window is open. Because the server reads exactly the expected
/// bytes, "a\r\n.\r\n" followed by the next MAIL in one step only passes when the client wrote
/// them without waiting for the first message's final reply.
/// </summary>
public sealed class StaticRelayChainingTests
{
    private const string Greeting = "220 mx.test ESMTP\r\n";
    private const string Ehlo = "EHLO testhost.example\r\n";
    private const string EhloReply = "250-mx.test\r\n250 PIPELINING\r\n";
    private const string Quit = "QUIT\r\n";

    private static string Group(string rcpt) => $"MAIL FROM:<sender@x.test>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n";

    /// <summary>
    /// The server side up to a's group replies: greeting, EHLO, a's group read, then a pause (the
    /// test starts the next delivery while a's window is open) until <paramref name="resume"/>.
    /// </summary>
    private static Step[] FirstGroupPaused(TaskCompletionSource groupRead, TaskCompletionSource resume) =>
    [
        Send(Greeting), Expect(Ehlo), Send(EhloReply),
        Expect(Group("a@x.test")), Signal(groupRead), Wait(resume.Task),
        Send("250 ok\r\n250 ok\r\n354 go\r\n"),
    ];

    /// <summary>A new session that delivers b alone (no RSET: nothing was sent on it before).</summary>
    private static Step[] BOnNewSession() =>
    [
        Send(Greeting), Expect(Ehlo), Send(EhloReply),
        Expect(Group("b@x.test")), Send("250 ok\r\n250 ok\r\n354 go\r\n"),
        Expect("b\r\n.\r\n"), Send("250 2.0.0 b queued\r\n"),
        Expect(Quit), Send("221 bye\r\n"),
    ];

    /// <summary>
    /// Starts <paramref name="a"/>, waits until the server has read its group (a's window is
    /// open), starts b, lets the server go on; both results once the relay is disposed and the
    /// server's script has run to its end.
    /// </summary>
    private static async Task<(RelayResult A, RelayResult B)> PairAsync(SmtpRelay relay, ScriptedSmtpServer server, Envelope a, TaskCompletionSource groupRead, TaskCompletionSource resume)
    {
        var first = relay.AttemptAsync(a, 0, CancellationToken.None);
        await groupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = relay.AttemptAsync(Envelope("b\r\n", "b@x.test"), 0, CancellationToken.None);
        resume.SetResult();
        var results = (await WithinAsync(first), await WithinAsync(second));
        await relay.DisposeAsync();
        await server.Completion;
        return results;
    }

    private static SmtpRelay Create(int port, params (string Key, object Value)[] extra) => Create(port, 1, extra);

    private static SmtpRelay Create(int port, int connections, params (string Key, object Value)[] extra) =>
        (SmtpRelay)CreateStatic(port, null, [("concurrent_connections", connections), ("command_timeout", 5), ("data_timeout", 5), .. extra]);

    private static async Task<RelayResult> WithinAsync(ValueTask<RelayResult> attempt) =>
        await attempt.AsTask().WaitAsync(TimeSpan.FromSeconds(15));

    [Fact]
    public async Task AttemptAsync_DeliveriesArriveWhileGroupPending_EachSentBehindThePreviousDot()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        var secondGroupRead = new TaskCompletionSource();
        var thirdJoined = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                Expect("a\r\n.\r\n" + Group("b@x.test")), Signal(secondGroupRead), Wait(thirdJoined.Task),
                Send("250 2.0.0 a queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("b\r\n.\r\n" + Group("c@x.test")),
                Send("250 2.0.0 b queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("c\r\n.\r\n"), Send("250 2.0.0 c queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port);

        var a = relay.AttemptAsync(Envelope("a\r\n", "a@x.test"), 0, CancellationToken.None);
        await firstGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var b = relay.AttemptAsync(Envelope("b\r\n", "b@x.test"), 0, CancellationToken.None);
        secondJoined.SetResult();
        await secondGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var c = relay.AttemptAsync(Envelope("c\r\n", "c@x.test"), 0, CancellationToken.None);
        thirdJoined.SetResult();
        var results = new[] { await WithinAsync(a), await WithinAsync(b), await WithinAsync(c) };
        await relay.DisposeAsync();
        await server.Completion;

        Assert.Equal(["a queued", "b queued", "c queued"], results.Select(r => Assert.Single(r.Recipients).Reply.Text));
        Assert.All(results, r => Assert.True(r.AllDelivered));
        Assert.Equal(2, relay.MessagesChained);
        Assert.Equal(1, relay.ConnectionsOpened);
    }

    [Fact]
    public async Task AttemptAsync_ChainedMessageRefusedAtRcpt_RefusedAndNextGoesAfterRset()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        var secondGroupRead = new TaskCompletionSource();
        var thirdWaiting = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                Expect("a\r\n.\r\n" + Group("b@x.test")), Signal(secondGroupRead), Wait(thirdWaiting.Task),
                Send("250 2.0.0 a queued\r\n250 ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n"),
                // The refused transaction is cleared; the next message goes on the same session with
                // the RSET of a reused session in front of its group.
                Expect("RSET\r\n"), Send("250 ok\r\n"),
                Expect("RSET\r\n" + Group("c@x.test")), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("c\r\n.\r\n"), Send("250 2.0.0 c queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port);

        var a = relay.AttemptAsync(Envelope("a\r\n", "a@x.test"), 0, CancellationToken.None);
        await firstGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var b = relay.AttemptAsync(Envelope("b\r\n", "b@x.test"), 0, CancellationToken.None);
        secondJoined.SetResult();
        await secondGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var c = relay.AttemptAsync(Envelope("c\r\n", "c@x.test"), 0, CancellationToken.None);
        thirdWaiting.SetResult();
        var (ra, rb, rc) = (await WithinAsync(a), await WithinAsync(b), await WithinAsync(c));
        await relay.DisposeAsync();
        await server.Completion;

        Assert.True(ra.AllDelivered);
        var refused = Assert.Single(rb.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, refused.Outcome);
        Assert.Equal(550, refused.Reply.Code);
        Assert.True(rc.AllDelivered);
        Assert.Equal(1, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_DroppedAfterChainedGroup_FirstTransientSecondDeliveredOnNewSession()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        await using var server = StartMany(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                Expect("a\r\n.\r\n" + Group("b@x.test")), Close(),
            ],
            [
                // A new session: no RSET, and b's commands sent again from the start.
                .. BOnNewSession(),
            ]);
        var relay = Create(server.Port);

        var (ra, rb) = await PairAsync(relay, server, Envelope("a\r\n", "a@x.test"), firstGroupRead, secondJoined);

        // a's final reply never came: unknown, so retried later (RFC 5321 §4.1.1.4); b was never
        // given to the first server (no 354 was read for it) and went at once on a new session.
        var lost = Assert.Single(ra.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, lost.Outcome);
        Assert.Equal("4.4.2", lost.Reply.EnhancedStatus);
        Assert.Equal("b queued", Assert.Single(rb.Recipients).Reply.Text);
        Assert.Equal(2, relay.ConnectionsOpened);
    }

    [Fact]
    public async Task AttemptAsync_FinalReply421_ChainedMessageGoesOnNewSession()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        await using var server = StartMany(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                Expect("a\r\n.\r\n" + Group("b@x.test")),
                // Closing: b's commands are answered 421 too, which must not count as b's failure.
                Send("421 4.3.2 shutting down\r\n421 4.3.2 shutting down\r\n"), Close(),
            ],
            [
                .. BOnNewSession(),
            ]);
        var relay = Create(server.Port);

        var (ra, rb) = await PairAsync(relay, server, Envelope("a\r\n", "a@x.test"), firstGroupRead, secondJoined);

        Assert.Equal(421, Assert.Single(ra.Recipients).Reply.Code);
        Assert.True(rb.AllDelivered);
        Assert.Equal(0, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_ChainMessagesFalse_NextWaitsForTheSession()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondWaiting = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondWaiting),
                Expect("a\r\n.\r\n"), Send("250 2.0.0 a queued\r\n"),
                Expect("RSET\r\n" + Group("b@x.test")), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("b\r\n.\r\n"), Send("250 2.0.0 b queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port, ("chain_messages", false));

        var (ra, rb) = await PairAsync(relay, server, Envelope("a\r\n", "a@x.test"), firstGroupRead, secondWaiting);

        Assert.True(ra.AllDelivered && rb.AllDelivered);
        Assert.Equal(0, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_ServerWithoutPipelining_NothingChained()
    {
        var firstMailRead = new TaskCompletionSource();
        var secondWaiting = new TaskCompletionSource();
        await using var server = Start(
            Send(Greeting), Expect(Ehlo), Send("250 mx.test\r\n"),
            Expect("MAIL FROM:<sender@x.test>\r\n"), Signal(firstMailRead), Wait(secondWaiting.Task), Send("250 ok\r\n"),
            Expect("RCPT TO:<a@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("DATA\r\n"), Send("354 go\r\n"),
            Expect("a\r\n.\r\n"), Send("250 2.0.0 a queued\r\n"),
            Expect("RSET\r\n"), Send("250 ok\r\n"),
            Expect("MAIL FROM:<sender@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("RCPT TO:<b@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("DATA\r\n"), Send("354 go\r\n"),
            Expect("b\r\n.\r\n"), Send("250 2.0.0 b queued\r\n"),
            Expect(Quit), Send("221 bye\r\n"));
        var relay = Create(server.Port);

        var (ra, rb) = await PairAsync(relay, server, Envelope("a\r\n", "a@x.test"), firstMailRead, secondWaiting);

        Assert.True(ra.AllDelivered && rb.AllDelivered);
        Assert.Equal(0, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_WaitingDeliveryCanceled_CarrierSendsItsMessageAlone()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondCanceled = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondCanceled),
                Expect("a\r\n.\r\n"), Send("250 2.0.0 a queued\r\n"),
                Expect("RSET\r\n" + Group("c@x.test")), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("c\r\n.\r\n"), Send("250 2.0.0 c queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port);
        using var cancel = new CancellationTokenSource();

        var a = relay.AttemptAsync(Envelope("a\r\n", "a@x.test"), 0, CancellationToken.None);
        await firstGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var b = relay.AttemptAsync(Envelope("b\r\n", "b@x.test"), 0, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.AsTask());
        secondCanceled.SetResult();
        var ra = await WithinAsync(a);
        // The canceled one left no trace in the line: the next delivery gets the session.
        var rc = await WithinAsync(relay.AttemptAsync(Envelope("c\r\n", "c@x.test"), 0, CancellationToken.None));
        await relay.DisposeAsync();
        await server.Completion;

        Assert.True(ra.AllDelivered && rc.AllDelivered);
        Assert.Equal(0, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_WaitingMessageRefusedByClient_AnsweredAndTheOneBehindItChained()
    {
        var firstGroupRead = new TaskCompletionSource();
        var othersWaiting = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, othersWaiting),
                // b is refused without the server; c, in line behind it, goes behind a's dot instead.
                Expect("a\r\n.\r\n" + Group("c@x.test")), Send("250 2.0.0 a queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("c\r\n.\r\n"), Send("250 2.0.0 c queued\r\n"),
                Expect("RSET\r\n" + Group("d@x.test")), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("d\r\n.\r\n"), Send("250 2.0.0 d queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port);

        var a = relay.AttemptAsync(Envelope("a\r\n", "a@x.test"), 0, CancellationToken.None);
        await firstGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // A recipient with a CR would inject a command: the client refuses it itself.
        var b = relay.AttemptAsync(Envelope("b\r\n", "b\r@x.test"), 0, CancellationToken.None);
        var c = relay.AttemptAsync(Envelope("c\r\n", "c@x.test"), 0, CancellationToken.None);
        othersWaiting.SetResult();
        var (ra, rb, rc) = (await WithinAsync(a), await WithinAsync(b), await WithinAsync(c));
        // Afterwards the one session and its slot are free again.
        var rd = await WithinAsync(relay.AttemptAsync(Envelope("d\r\n", "d@x.test"), 0, CancellationToken.None));
        await relay.DisposeAsync();
        await server.Completion;

        Assert.True(ra.AllDelivered && rc.AllDelivered && rd.AllDelivered);
        var refused = Assert.Single(rb.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, refused.Outcome);
        Assert.Equal("5.1.3", refused.Reply.EnhancedStatus);
        Assert.Equal(1, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_LargeMessage_NextNotChainedBehindIt()
    {
        var large = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 80));
        var firstGroupRead = new TaskCompletionSource();
        var secondWaiting = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondWaiting),
                Expect(large + ".\r\n"), Send("250 2.0.0 a queued\r\n"),
                Expect("RSET\r\n" + Group("b@x.test")), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("b\r\n.\r\n"), Send("250 2.0.0 b queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port);

        var (ra, rb) = await PairAsync(relay, server, Envelope(large, "a@x.test"), firstGroupRead, secondWaiting);

        Assert.True(ra.AllDelivered && rb.AllDelivered);
        Assert.Equal(0, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_WindowOpenAndSlotFree_NextLinesUpBehindTheWindow()
    {
        // Two connections allowed, but a delivery that finds a window open waits for it instead
        // of opening a second session (which this one-connection server would never answer).
        var firstGroupRead = new TaskCompletionSource();
        var secondArrived = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondArrived),
                Expect("a\r\n.\r\n" + Group("b@x.test")), Send("250 2.0.0 a queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("b\r\n.\r\n"), Send("250 2.0.0 b queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port, connections: 2);

        var (ra, rb) = await PairAsync(relay, server, Envelope("a\r\n", "a@x.test"), firstGroupRead, secondArrived);

        Assert.True(ra.AllDelivered && rb.AllDelivered);
        Assert.Equal(1, relay.MessagesChained);
        Assert.Equal(1, relay.ConnectionsOpened);
    }

    [Fact]
    public async Task AttemptAsync_DroppedAfterFirstFinalReply_ChainedMessageSentAgainOnNewSession()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        await using var server = StartMany(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                // a is taken; the server goes away before answering b's commands.
                Expect("a\r\n.\r\n" + Group("b@x.test")), Send("250 2.0.0 a queued\r\n"), Close(),
            ],
            [
                .. BOnNewSession(),
            ]);
        var relay = Create(server.Port);

        var (ra, rb) = await PairAsync(relay, server, Envelope("a\r\n", "a@x.test"), firstGroupRead, secondJoined);

        Assert.Equal("a queued", Assert.Single(ra.Recipients).Reply.Text);
        Assert.Equal("b queued", Assert.Single(rb.Recipients).Reply.Text);
        Assert.Equal(2, relay.ConnectionsOpened);
    }

    [Fact]
    public async Task AttemptAsync_ChainedMailAnswered421_SentAgainOnNewSession()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        await using var server = StartMany(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                Expect("a\r\n.\r\n" + Group("b@x.test")),
                Send("250 2.0.0 a queued\r\n421 4.3.2 shutting down\r\n"), Close(),
            ],
            [
                .. BOnNewSession(),
            ]);
        var relay = Create(server.Port);

        var (ra, rb) = await PairAsync(relay, server, Envelope("a\r\n", "a@x.test"), firstGroupRead, secondJoined);

        Assert.True(ra.AllDelivered);
        // Not deferred: a closing server said nothing about b itself.
        Assert.Equal("b queued", Assert.Single(rb.Recipients).Reply.Text);
    }

    [Fact]
    public async Task AttemptAsync_ChainedLargeMessage_OpensNoWindowOfItsOwn()
    {
        var large = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 80));
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        var secondGroupRead = new TaskCompletionSource();
        var thirdArrived = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                Expect("a\r\n.\r\n" + Group("b@x.test")), Signal(secondGroupRead), Wait(thirdArrived.Task),
                Send("250 2.0.0 a queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                // Nothing behind the large message's dot: c waited for the session instead.
                Expect(large + ".\r\n"), Send("250 2.0.0 b queued\r\n"),
                Expect("RSET\r\n" + Group("c@x.test")), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("c\r\n.\r\n"), Send("250 2.0.0 c queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        var relay = Create(server.Port);

        var a = relay.AttemptAsync(Envelope("a\r\n", "a@x.test"), 0, CancellationToken.None);
        await firstGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var b = relay.AttemptAsync(Envelope(large, "b@x.test"), 0, CancellationToken.None);
        secondJoined.SetResult();
        await secondGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var c = relay.AttemptAsync(Envelope("c\r\n", "c@x.test"), 0, CancellationToken.None);
        thirdArrived.SetResult();
        var results = new[] { await WithinAsync(a), await WithinAsync(b), await WithinAsync(c) };
        await relay.DisposeAsync();
        await server.Completion;

        Assert.All(results, r => Assert.True(r.AllDelivered));
        Assert.Equal(1, relay.MessagesChained);
    }

    [Fact]
    public async Task AttemptAsync_WaitingMessageCannotBePrepared_ItFailsAndTheCarrierIsUnharmed()
    {
        var firstGroupRead = new TaskCompletionSource();
        var secondJoined = new TaskCompletionSource();
        await using var server = Start(
            [
                .. FirstGroupPaused(firstGroupRead, secondJoined),
                Expect("a\r\n.\r\n"), Send("250 2.0.0 a queued\r\n"),
                Expect("RSET\r\n" + Group("c@x.test")), Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect("c\r\n.\r\n"), Send("250 2.0.0 c queued\r\n"),
                Expect(Quit), Send("221 bye\r\n"),
            ]);
        // No 8BITMIME offered, and a converter that breaks on b's 8-bit body.
        var settings = SmtpRelaySettings.Parse(Options(("host", "127.0.0.1"), ("port", server.Port), ("concurrent_connections", 1), ("command_timeout", 5)), RelayKind.Static);
        var options = new SmtpClientOptions { EhloName = "testhost.example", EightBitConverter = _ => throw new InvalidOperationException("converter broke") };
        var connector = new SmtpConnector(settings, new SmtpDestination("127.0.0.1", server.Port), options, null, NullLogger.Instance);
        var relay = new SmtpRelay(new PooledDestination(connector, settings, TimeProvider.System, NullLogger.Instance));

        var a = relay.AttemptAsync(Envelope("a\r\n", "a@x.test"), 0, CancellationToken.None);
        await firstGroupRead.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var b = relay.AttemptAsync(Envelope("caf\u00e9\r\n", "b@x.test"), 0, CancellationToken.None);
        secondJoined.SetResult();
        var ra = await WithinAsync(a);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () => await WithinAsync(b));
        // The session went back clean and the slot free: the next message goes on it.
        var rc = await WithinAsync(relay.AttemptAsync(Envelope("c\r\n", "c@x.test"), 0, CancellationToken.None));
        await relay.DisposeAsync();
        await server.Completion;

        Assert.True(ra.AllDelivered && rc.AllDelivered);
        Assert.Equal("converter broke", failure.Message);
    }

    [Fact]
    public async Task AttemptAsync_ManyDeliveriesSomeCanceled_EveryOtherDeliveredOnceAndNoSlotLost()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = (SmtpRelay)CreateStatic(sink.Port, null, ("concurrent_connections", 3));
        var random = new Random(1234);
        using var cancels = new CancellationTokenSource();

        // 300 deliveries arriving over time, every fifth with a token canceled at a random moment.
        var attempts = new List<(int Index, bool Cancelable, Task<RelayResult> Task)>();
        var tokens = new List<CancellationTokenSource>();
        for (int i = 0; i < 300; i++)
        {
            bool cancelable = i % 5 == 0;
            var cts = new CancellationTokenSource();
            tokens.Add(cts);
            if (cancelable)
            {
                cts.CancelAfter(TimeSpan.FromMilliseconds(random.Next(0, 20)));
            }
            attempts.Add((i, cancelable, relay.AttemptAsync(Envelope($"Subject: {i}\r\n\r\nbody {i}\r\n", $"r{i}@x.test"), 0, cts.Token).AsTask()));
            if (i % 10 == 0)
            {
                await Task.Delay(1);
            }
        }
        var delivered = new List<int>();
        foreach (var (index, cancelable, task) in attempts)
        {
            try
            {
                var result = await task.WaitAsync(TimeSpan.FromSeconds(60));
                if (result.AllDelivered)
                {
                    delivered.Add(index);
                }
                else
                {
                    // A cancel that broke a session mid-transaction defers that message, nothing else.
                    Assert.True(cancelable, $"{index}: {string.Join(", ", result.Recipients)}");
                }
            }
            catch (OperationCanceledException) when (cancelable)
            {
            }
        }
        // Afterwards every slot is back: three at once still go.
        var after = await Task.WhenAll(Enumerable.Range(300, 3).Select(i =>
            relay.AttemptAsync(Envelope($"Subject: {i}\r\n\r\nbody {i}\r\n", $"r{i}@x.test"), 0, CancellationToken.None).AsTask()))
            .WaitAsync(TimeSpan.FromSeconds(30));
        await relay.DisposeAsync();
        tokens.ForEach(t => t.Dispose());

        Assert.All(after, r => Assert.True(r.AllDelivered));
        delivered.AddRange(Enumerable.Range(300, 3));
        Assert.True(delivered.Count >= 243, $"only {delivered.Count} delivered");
        var received = await sink.WaitForMessagesAsync(delivered.Count);
        // Each reported delivery arrived exactly once, with its own body.
        foreach (int i in delivered)
        {
            var message = Assert.Single(received, m => m.Recipients.SequenceEqual([$"r{i}@x.test"]));
            Assert.Equal($"Subject: {i}\r\n\r\nbody {i}\r\n", Encoding.UTF8.GetString(message.Data));
        }
        Assert.True(relay.MessagesChained > 0);
    }

    [Fact]
    public async Task AttemptAsync_BacklogOnOneConnectionToSmtpSink_EveryMessageOnceAndChained()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = (SmtpRelay)CreateStatic(sink.Port, null, ("concurrent_connections", 1));

        // All twenty line up while the first opens the session; each later one is then sent
        // behind the previous one's dot.
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            relay.AttemptAsync(Envelope($"Subject: {i}\r\n\r\nbody {i}\r\n", $"r{i}@x.test"), 0, CancellationToken.None).AsTask()));
        await relay.DisposeAsync();

        Assert.All(results, r => Assert.True(r.AllDelivered, string.Join(", ", r.Recipients)));
        Assert.Equal(19, relay.MessagesChained);
        Assert.Equal(1, relay.ConnectionsOpened);
        var received = await sink.WaitForMessagesAsync(20);
        Assert.Equal(20, received.Count);
        for (int i = 0; i < 20; i++)
        {
            var message = Assert.Single(received, m => m.Recipients.SequenceEqual([$"r{i}@x.test"]));
            Assert.Equal($"Subject: {i}\r\n\r\nbody {i}\r\n", Encoding.UTF8.GetString(message.Data));
        }
    }
}
