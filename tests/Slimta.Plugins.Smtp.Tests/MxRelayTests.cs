using System.Net;
using System.Net.Sockets;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;
using static Slimta.Smtp.Tests.Client.ScriptedSmtpServer;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>The mx relay against a real DNS server (dnsmasq) and real next hops (smtp-sink, scripted servers).</summary>
public sealed class MxRelayTests
{
    private const string Message = "From: a@x.test\r\nSubject: mx\r\n\r\nbody\r\n";

    private static async Task DisposeAsync(IRelay relay) => await ((IAsyncDisposable)relay).DisposeAsync();

    [Fact]
    public async Task AttemptAsync_FirstMxRefusesConnection_NextMxInSameAttempt()
    {
        await using var sink = await SmtpSink.StartAsync();
        // mx1 (preferred) is 127.0.0.2, where nothing listens on the sink's port: refused.
        await using var dns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Mx("a.test", "mx1.a.test", 10), LocalDnsServer.Mx("a.test", "mx2.a.test", 20),
            LocalDnsServer.Host("mx1.a.test", "127.0.0.2"), LocalDnsServer.Host("mx2.a.test", "127.0.0.1"));
        var relay = CreateMx(dns.Server, sink.Port);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@a.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients) + dns.Output);
        Assert.Equal($"mx2.a.test:{sink.Port}", result.RemoteHost);
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Equal(["rcpt@a.test"], received.Recipients);
    }

    [Fact]
    public async Task AttemptAsync_PreferredMxGreets421_NextMxDelivers()
    {
        await using var server = StartMany(
            [Send("421 4.3.2 busy\r\n"), Close()],
            [
                Send("220 mx2 ESMTP\r\n"), Expect("EHLO testhost.example\r\n"), Send("250-mx2\r\n250 PIPELINING\r\n"),
                Expect("MAIL FROM:<sender@x.test>\r\nRCPT TO:<rcpt@a.test>\r\nDATA\r\n"), Send("250 ok\r\n250 ok\r\n354 go\r\n"),
                Expect(Message + ".\r\n"), Send("250 2.0.0 queued\r\n"), Expect("QUIT\r\n"), Send("221 bye\r\n"), Close(),
            ]);
        // Both names point at the scripted server: the preferred one gets the 421 session.
        await using var dns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Mx("a.test", "mx1.a.test", 5), LocalDnsServer.Mx("a.test", "mx2.a.test", 50),
            LocalDnsServer.Host("mx1.a.test", "127.0.0.1"), LocalDnsServer.Host("mx2.a.test", "127.0.0.1"));
        var relay = CreateMx(dns.Server, server.Port);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@a.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.Delivered, only.Outcome);
        Assert.Equal("2.0.0", only.Reply.EnhancedStatus);
        Assert.Equal($"mx2.a.test:{server.Port}", result.RemoteHost);
        Assert.Equal(2, server.Connections);
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_EveryMxRefuses_TransientWithLastReply()
    {
        int port = FreePort.Next();
        await using var dns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Mx("a.test", "mx1.a.test", 10), LocalDnsServer.Mx("a.test", "mx2.a.test", 20),
            LocalDnsServer.Host("mx1.a.test", "127.0.0.2"), LocalDnsServer.Host("mx2.a.test", "127.0.0.3"));
        var relay = CreateMx(dns.Server, port);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@a.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.1", only.Reply.EnhancedStatus);
        Assert.Contains("mx2.a.test", only.Reply.Text);
    }

    [Fact]
    public async Task AttemptAsync_NoMxRecords_ImplicitMxUsesAddressRecord()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Host("implicit.test", "127.0.0.1"));
        var relay = CreateMx(dns.Server, sink.Port);

        var result = await relay.AttemptAsync(Envelope(Message, "user@implicit.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Equal($"implicit.test:{sink.Port}", result.RemoteHost);
        Assert.Single(await sink.WaitForMessagesAsync(1));
    }

    [Fact]
    public async Task AttemptAsync_NullMx_Permanent5110()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.NullMx("nomail.test"), LocalDnsServer.Host("nomail.test", "127.0.0.1"));
        var relay = CreateMx(dns.Server, FreePort.Next());

        var result = await relay.AttemptAsync(Envelope(Message, "user@nomail.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, only.Outcome);
        Assert.Equal(556, only.Reply.Code);
        Assert.Equal("5.1.10", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_Nxdomain_Permanent512()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Host("other.test", "127.0.0.1"));
        var relay = CreateMx(dns.Server, FreePort.Next());

        var result = await relay.AttemptAsync(Envelope(Message, "user@missing.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, only.Outcome);
        Assert.Equal("5.1.2", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_DomainWithoutMxOrAddress_Permanent512()
    {
        // The name exists (it has a TXT-like record) but has neither MX nor A/AAAA.
        await using var dns = await LocalDnsServer.StartAsync("--txt-record=bare.test,hello");
        var relay = CreateMx(dns.Server, FreePort.Next());

        var result = await relay.AttemptAsync(Envelope(Message, "user@bare.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, only.Outcome);
        Assert.Equal("5.1.2", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_DnsTimesOut_Transient()
    {
        // dnsmasq forwards this name to a server that never answers: the relay's query times out.
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Unanswered("slow.example"));
        var relay = CreateMx(dns.Server, FreePort.Next());

        var result = await relay.AttemptAsync(Envelope(Message, "user@slow.example"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.3", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_DnsServfail_Transient()
    {
        using var servfail = new ServfailResponder();
        var relay = CreateMx(servfail.EndPoint, FreePort.Next());

        var result = await relay.AttemptAsync(Envelope(Message, "user@broken.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.3", only.Reply.EnhancedStatus);
        Assert.Contains("ServerFailure", only.Reply.Text);
        Assert.True(servfail.Queries > 0);
    }

    [Fact]
    public async Task AttemptAsync_SeveralDomains_OneTransactionPerDomainResultsInEnvelopeOrder()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var dns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Mx("a.test", "mx.a.test", 10), LocalDnsServer.Host("mx.a.test", "127.0.0.1"),
            LocalDnsServer.Host("implicit.test", "127.0.0.1"));
        var relay = CreateMx(dns.Server, sink.Port);

        var result = await relay.AttemptAsync(
            Envelope(Message, "one@a.test", "two@missing.test", "three@implicit.test", "four@A.TEST"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.Equal(
            [DeliveryOutcome.Delivered, DeliveryOutcome.PermanentFailure, DeliveryOutcome.Delivered, DeliveryOutcome.Delivered],
            result.Recipients.Select(r => r.Outcome));
        Assert.Equal("5.1.2", result.Recipients[1].Reply.EnhancedStatus);
        var received = await sink.WaitForMessagesAsync(2);
        Assert.Equal(2, received.Count);
        Assert.Contains(received, m => m.Recipients.SequenceEqual(["one@a.test", "four@A.TEST"]));
        Assert.Contains(received, m => m.Recipients.SequenceEqual(["three@implicit.test"]));
    }

    [Fact]
    public async Task AttemptAsync_ForceMx_SkipsDnsAndUsesGivenHostAndPort()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var dns = await LocalDnsServer.StartAsync();
        var relay = CreateMx(dns.Server, 25, null, ("force_mx", new (string, object)[] { ("missing.test", $"127.0.0.1:{sink.Port}") }));

        var result = await relay.AttemptAsync(Envelope(Message, "user@missing.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Single(await sink.WaitForMessagesAsync(1));
    }

    [Fact]
    public async Task AttemptAsync_Ipv4OnlyAndMxHasOnlyAaaa_TransientNoAddress()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Mx("v6.test", "mx.v6.test", 10), LocalDnsServer.Host("mx.v6.test", "::1"));
        var relay = CreateMx(dns.Server, FreePort.Next(), null, ("ipv4_only", true));

        var result = await relay.AttemptAsync(Envelope(Message, "user@v6.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.3", only.Reply.EnhancedStatus);
        Assert.Contains("no address", only.Reply.Text);
    }

    [Fact]
    public async Task AttemptAsync_TwoMessagesSameExchanger_SessionReused()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Mx("a.test", "mx.a.test", 10), LocalDnsServer.Host("mx.a.test", "127.0.0.1"));
        var relay = (MxRelay)CreateMx(dns.Server, sink.Port);

        var first = await relay.AttemptAsync(Envelope(Message, "one@a.test"), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope(Message, "two@a.test"), 0, CancellationToken.None);
        int opened = relay.ConnectionsOpened;
        await relay.DisposeAsync();

        Assert.True(first.AllDelivered && second.AllDelivered);
        Assert.Equal(1, opened);
        Assert.Equal(2, (await sink.WaitForMessagesAsync(2)).Count);
    }

    /// <summary>A UDP DNS responder that answers every query with SERVFAIL (dnsmasq cannot be made to).</summary>
    private sealed class ServfailResponder : IDisposable
    {
        private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly CancellationTokenSource _stop = new();
        private int _queries;

        public ServfailResponder() => _ = RunAsync();

        public string EndPoint => _udp.Client.LocalEndPoint!.ToString()!;

        public int Queries => Volatile.Read(ref _queries);

        public void Dispose()
        {
            _stop.Cancel();
            _udp.Dispose();
            _stop.Dispose();
        }

        private async Task RunAsync()
        {
            try
            {
                while (true)
                {
                    var query = await _udp.ReceiveAsync(_stop.Token);
                    Interlocked.Increment(ref _queries);
                    var answer = query.Buffer.ToArray();
                    answer[2] = (byte)(0x80 | (answer[2] & 0x79)); // QR=1, keep opcode and RD
                    answer[3] = 0x82;                              // RA=1, RCODE=2 (SERVFAIL)
                    await _udp.SendAsync(answer, query.RemoteEndPoint, _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }
    }

    [Fact]
    public async Task AttemptAsync_ExchangerUnusedForLong_PoolDroppedAndMadeAgainWhenNeeded()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var dns = await LocalDnsServer.StartAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var relay = (MxRelay)CreateMx(dns.Server, 25, time, ("idle_timeout", 1), ("force_mx", new (string, object)[] { ("far.test", $"127.0.0.1:{sink.Port}") }));
        string key = $"127.0.0.1:{sink.Port}";

        Assert.True((await relay.AttemptAsync(Envelope(Message, "user@far.test"), 0, CancellationToken.None)).AllDelivered);
        Assert.Contains(key, relay.Destinations);
        // The idle session closes after idle_timeout; the pool stays while recently used.
        time.Advance(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Contains(key, relay.Destinations);
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.DoesNotContain(key, relay.Destinations);

        // The exchanger is needed again: a new pool, a new connection, the mail goes through.
        Assert.True((await relay.AttemptAsync(Envelope(Message, "user@far.test"), 0, CancellationToken.None)).AllDelivered);
        Assert.Equal(2, relay.ConnectionsOpened);
        Assert.Equal(2, relay.DestinationsCreated);
        await DisposeAsync(relay);

        Assert.Equal(2, (await sink.WaitForMessagesAsync(2)).Count);
    }

    [Fact]
    public async Task EvictUnusedAsync_DeliveryInProgress_KeepsThePool()
    {
        await using var server = StartMany(
        [
            Send("220 mx ESMTP\r\n"), Expect("EHLO testhost.example\r\n"), Send("250-mx\r\n250 PIPELINING\r\n"),
            Expect("MAIL FROM:<sender@x.test>\r\nRCPT TO:<user@slow.test>\r\nDATA\r\n"),
            Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect(Message + ".\r\n"), Hang(),
        ]);
        await using var dns = await LocalDnsServer.StartAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        // Timeouts far beyond the clock's jump, so only the eviction is tested.
        var relay = (MxRelay)CreateMx(dns.Server, 25, time, ("connect_timeout", 3600), ("command_timeout", 3600), ("data_timeout", 3600),
            ("force_mx", new (string, object)[] { ("slow.test", $"127.0.0.1:{server.Port}") }));
        string key = $"127.0.0.1:{server.Port}";
        using var cancel = new CancellationTokenSource();

        var attempt = relay.AttemptAsync(Envelope(Message, "user@slow.test"), 0, cancel.Token).AsTask();
        await server.Hanging;
        // Long unused by the clock, but a delivery waits for its final reply: the pool stays.
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(0, await relay.EvictUnusedAsync());
        Assert.Contains(key, relay.Destinations);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => attempt);
        // Just used: still kept.
        Assert.Equal(0, await relay.EvictUnusedAsync());
        Assert.Contains(key, relay.Destinations);
        await DisposeAsync(relay);
    }

    [Theory]
    [InlineData("idle_timeout")]
    [InlineData("circuit_breaker")]
    public async Task EvictUnusedAsync_IdleSessionOrLongBreaker_KeepsThePool(string keeper)
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var dns = await LocalDnsServer.StartAsync();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        (string, object)[] extra = keeper == "idle_timeout"
            ? [("idle_timeout", 3600)]   // the session stays idle in the pool for an hour
            : [("idle_timeout", 1), ("circuit_breaker", new (string, object)[] { ("duration", 3600) })];
        var relay = (MxRelay)CreateMx(dns.Server, 25, time, [.. extra, ("force_mx", new (string, object)[] { ("far.test", $"127.0.0.1:{sink.Port}") })]);
        string key = $"127.0.0.1:{sink.Port}";

        Assert.True((await relay.AttemptAsync(Envelope(Message, "user@far.test"), 0, CancellationToken.None)).AllDelivered);
        time.Advance(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromMinutes(11));

        Assert.Equal(0, await relay.EvictUnusedAsync());
        Assert.Contains(key, relay.Destinations);
        if (keeper == "circuit_breaker")
        {
            // Kept as long as the breaker's duration, then dropped.
            time.Advance(TimeSpan.FromMinutes(50));
            Assert.DoesNotContain(key, relay.Destinations);
        }
        await DisposeAsync(relay);
    }
}
