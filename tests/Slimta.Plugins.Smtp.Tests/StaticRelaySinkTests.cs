using System.Text;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>The static and lmtp relays against Postfix's real smtp-sink.</summary>
public sealed class StaticRelaySinkTests
{
    private static async Task DisposeAsync(IRelay relay) => await ((IAsyncDisposable)relay).DisposeAsync();

    [Fact]
    public async Task AttemptAsync_LeadingDotsAndEightBitBytes_ArriveByteExact()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port);
        var message = "From: a@x.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\ncaf\u00e9 \u00fc\u00df\r\nlast\r\n";

        var result = await relay.AttemptAsync(Envelope(message), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Equal($"127.0.0.1:{sink.Port}", result.RemoteHost);
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Equal(Encoding.UTF8.GetBytes(message), received.Data);
        Assert.Equal("sender@x.test", received.Sender);
        Assert.Contains("BODY=8BITMIME", received.MailParameters);
        Assert.Equal("testhost.example", received.HeloArgs);
    }

    [Fact]
    public async Task AttemptAsync_MessageWithoutFinalCrlf_ArrivesWithCrlfAdded()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nno newline"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered);
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Equal("Subject: x\r\n\r\nno newline\r\n", Encoding.UTF8.GetString(received.Data));
    }

    [Fact]
    public async Task AttemptAsync_SeveralRecipients_AllDeliveredInOneTransaction()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port);
        string[] recipients = ["a@x.test", "b@y.test", "c@z.test"];

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n", recipients), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.Equal(3, result.Recipients.Count);
        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Equal(recipients, received.Recipients);
    }

    [Fact]
    public async Task AttemptAsync_SinkRejectsRcpt_PermanentFailureForEveryRecipient()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        var relay = CreateStatic(sink.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n", "a@x.test", "b@x.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.Equal(2, result.Recipients.Count);
        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.PermanentFailure, r.Outcome));
        Assert.All(result.Recipients, r => Assert.Equal(5, r.Reply.Code / 100));
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public async Task AttemptAsync_SinkDefersRcpt_TransientFailure()
    {
        await using var sink = await SmtpSink.StartAsync("-r", "RCPT");
        var relay = CreateStatic(sink.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.3.0", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_SinkDefersFinalDot_TransientFailure()
    {
        await using var sink = await SmtpSink.StartAsync("-r", ".");
        var relay = CreateStatic(sink.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n", "a@x.test", "b@x.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.TransientFailure, r.Outcome));
    }

    [Fact]
    public async Task AttemptAsync_SinkWithout8BitMimeAndEightBitRefuse_FailsPermanentlyWith563()
    {
        await using var sink = await SmtpSink.StartAsync("-8");
        var relay = CreateStatic(sink.Port, null, ("eight_bit", "refuse"));

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\ncaf\u00e9\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, only.Outcome);
        Assert.Equal("5.6.3", only.Reply.EnhancedStatus);
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public async Task AttemptAsync_SinkWithout8BitMime_BodyConvertedToQuotedPrintableHeadersUntouched()
    {
        await using var sink = await SmtpSink.StartAsync("-8");
        var relay = CreateStatic(sink.Port);
        var message = "From: a@x.test\r\nSubject:  odd   spacing\r\nX-Keep: (kept)\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\u00e9 \u00fc\u00df\r\n";

        var result = await relay.AttemptAsync(Envelope(message), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.DoesNotContain(received.Data, b => b >= 0x80);
        Assert.DoesNotContain("BODY=8BITMIME", received.MailParameters);
        var text = Encoding.ASCII.GetString(received.Data);
        Assert.StartsWith("From: a@x.test\r\nSubject:  odd   spacing\r\nX-Keep: (kept)\r\nMIME-Version: 1.0\r\n", text);
        Assert.Contains("Content-Transfer-Encoding: quoted-printable", text);
        using var stream = new MemoryStream(received.Data);
        var parsed = MimeKit.MimeMessage.Load(stream);
        Assert.Equal("caf\u00e9 \u00fc\u00df\n", parsed.TextBody?.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task AttemptAsync_SinkWithout8BitMimeAndEightBitHeader_FailsPermanentlyWith563()
    {
        // A raw UTF-8 header cannot be converted without changing the header bytes.
        await using var sink = await SmtpSink.StartAsync("-8");
        var relay = CreateStatic(sink.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: caf\u00e9\r\n\r\nbody\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.Equal("5.6.3", Assert.Single(result.Recipients).Reply.EnhancedStatus);
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public async Task AttemptAsync_SinkDisconnectsAfterFinalDot_TransientFailure()
    {
        // -q .: smtp-sink drops the connection after the final dot without a reply, so the
        // message was never accepted.
        await using var sink = await SmtpSink.StartAsync("-q", ".");
        var relay = CreateStatic(sink.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.2", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_Sink421AtConnect_TransientFailure()
    {
        await using var sink = await SmtpSink.StartAsync("-Q", "CONNECT");
        var relay = CreateStatic(sink.Port);

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal(421, only.Reply.Code);
    }

    [Fact]
    public async Task AttemptAsync_TwoDeliveries_ReuseOneSession()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port);

        var first = await relay.AttemptAsync(Envelope("Subject: 1\r\n\r\none\r\n"), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope("Subject: 2\r\n\r\ntwo\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(first.AllDelivered && second.AllDelivered);
        Assert.Equal(1, ((SmtpRelay)relay).ConnectionsOpened);
        // smtp-sink counts a session when it ends: the relay's QUIT at dispose ends the only one.
        var counters = await sink.WaitForCountersAsync(c => c.Quits >= 1);
        Assert.Equal(new SmtpSink.Counters(1, 1, 2), counters);
    }

    [Fact]
    public async Task AttemptAsync_ParallelDeliveries_NeverMoreSessionsThanConcurrentConnections()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port, null, ("concurrent_connections", 2));

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            relay.AttemptAsync(Envelope($"Subject: {i}\r\n\r\nbody {i}\r\n"), 0, CancellationToken.None).AsTask()));
        await DisposeAsync(relay);

        Assert.All(results, r => Assert.True(r.AllDelivered));
        Assert.InRange(((SmtpRelay)relay).ConnectionsOpened, 1, 2);
        Assert.Equal(8, (await sink.WaitForMessagesAsync(8)).Count);
    }

    [Fact]
    public async Task AttemptAsync_AfterIdleTimeout_OpensNewSession()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port, time, ("idle_timeout", 10));

        await relay.AttemptAsync(Envelope("Subject: 1\r\n\r\none\r\n"), 0, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(11));
        var second = await relay.AttemptAsync(Envelope("Subject: 2\r\n\r\ntwo\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(second.AllDelivered);
        Assert.Equal(2, ((SmtpRelay)relay).ConnectionsOpened);
        var counters = await sink.WaitForCountersAsync(c => c.Quits >= 2);
        Assert.Equal(2, counters.Sessions);
    }

    [Fact]
    public async Task AttemptAsync_TlsRequiredButNotOffered_TransientFailure()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port, null, ("tls", new (string, object)[] { ("required", true) }));

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.7.0", only.Reply.EnhancedStatus);
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public async Task AttemptAsync_CredentialsToLoopbackSink_AuthenticatesAndDelivers()
    {
        await using var sink = await SmtpSink.StartAsync();
        var relay = CreateStatic(sink.Port, null, ("credentials", new (string, object)[] { ("username", "user"), ("password", "secret") }));

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Single(await sink.WaitForMessagesAsync(1));
    }

    [Fact]
    public async Task AttemptAsync_NothingListening_TransientFailure()
    {
        var relay = CreateStatic(FreePort.Next());

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\nbody\r\n", "a@x.test", "b@x.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.TransientFailure, r.Outcome));
        Assert.Equal("4.4.1", result.Recipients[0].Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_LmtpSink_DeliversEveryRecipient()
    {
        await using var sink = await SmtpSink.StartAsync("-L");
        var relay = new SmtpRelayFactory(lmtp: true).Create(Options(("port", sink.Port), ("host", "127.0.0.1")), Context());

        var result = await relay.AttemptAsync(Envelope("Subject: x\r\n\r\n.dot\r\n", "a@x.test", "b@x.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.Equal(2, result.Recipients.Count);
        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Equal("LMTP", received.Protocol);
        Assert.Equal("Subject: x\r\n\r\n.dot\r\n", Encoding.UTF8.GetString(received.Data));
    }
}
