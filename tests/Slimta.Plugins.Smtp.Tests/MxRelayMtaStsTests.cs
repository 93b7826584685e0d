using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Relaying;
using Slimta.Plugins.Smtp.MtaSts;
using Slimta.Testing;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;
using static Slimta.Smtp.Tests.Client.ScriptedSmtpServer;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>
/// MTA-STS (RFC 8461) in the mx relay: the policy comes from a real HTTPS server (a test CA),
/// the records from dnsmasq, the exchangers are scripted SMTP servers offering STARTTLS.
/// </summary>
public sealed class MxRelayMtaStsTests : IDisposable
{
    private const string Message = "From: a@x.test\r\nSubject: sts\r\n\r\nbody\r\n";
    private const string Ehlo = "EHLO testhost.example\r\n";
    private const string Group = "MAIL FROM:<sender@x.test>\r\nRCPT TO:<rcpt@sts.test>\r\nDATA\r\n";
    private readonly string _caFile = MtaStsTestServer.WriteCaPem();

    public void Dispose() => File.Delete(_caFile);

    private static string Policy(string mode, params string[] mx) =>
        "version: STSv1\r\nmode: " + mode + "\r\n" + string.Concat(mx.Select(m => "mx: " + m + "\r\n")) + "max_age: 86400\r\n";

    private static Task<LocalDnsServer> DnsAsync(string id = "20261128") => LocalDnsServer.StartAsync(
        LocalDnsServer.Mx("sts.test", "bad.sts.test", 10), LocalDnsServer.Mx("sts.test", "good.sts.test", 20),
        LocalDnsServer.Host("bad.sts.test", "127.0.0.1"), LocalDnsServer.Host("good.sts.test", "127.0.0.1"),
        LocalDnsServer.Host("mta-sts.sts.test", "127.0.0.1"),
        LocalDnsServer.Txt("_mta-sts.sts.test", "v=STSv1; id=" + id));

    private IRelay Create(LocalDnsServer dns, int smtpPort, MtaStsTestServer https, bool verifyTls = false) =>
        CreateMx(dns.Server, smtpPort, null,
            ("tls", new (string, object)[] { ("verify", verifyTls), ("ca_file", _caFile) }),
            ("mta_sts", new (string, object)[] { ("https_port", https.Port), ("ca_file", _caFile), ("timeout", 30) }));

    private static Step[] Delivering(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
    [
        Send("220 mx ESMTP\r\n"), Expect(Ehlo), Send("250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
        Expect("STARTTLS\r\n"), Send("220 go ahead\r\n"), Tls(certificate),
        Expect(Ehlo), Send("250-mx\r\n250 PIPELINING\r\n"),
        Expect(Group), Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect(Message + ".\r\n"), Send("250 2.0.0 ok\r\n"),
        Expect("QUIT\r\n"), Send("221 bye\r\n"), Close(),
    ];

    private static async Task DisposeAsync(IRelay relay) => await ((IAsyncDisposable)relay).DisposeAsync();

    [Fact]
    public async Task AttemptAsync_EnforceAndFirstMxCertificateForAnotherName_RefusesItAndDeliversToMatchingMx()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "*.sts.test"));
        using var goodCertificate = MtaStsTestServer.ServerCertificate("good.sts.test");
        // bad.sts.test (preferred) presents good.sts.test's certificate: not valid for its name.
        await using var server = StartMany(
            [
                Send("220 mx ESMTP\r\n"), Expect(Ehlo), Send("250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                Expect("STARTTLS\r\n"), Send("220 go ahead\r\n"), TlsRejected(goodCertificate),
            ],
            Delivering(goodCertificate));
        await using var dns = await DnsAsync();
        var relay = Create(dns, server.Port, https);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Equal($"good.sts.test:{server.Port}", result.RemoteHost);
        Assert.Equal(2, server.Connections);
        Assert.Equal(["/.well-known/mta-sts.txt mta-sts.sts.test"], https.Seen);
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_EnforceAndOnlyMismatchingCertificates_TransientAndNotDelivered()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "*.sts.test"));
        using var otherCertificate = MtaStsTestServer.ServerCertificate("mx.elsewhere.test");
        Step[] refused =
        [
            Send("220 mx ESMTP\r\n"), Expect(Ehlo), Send("250-mx\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("220 go ahead\r\n"), TlsRejected(otherCertificate),
        ];
        await using var server = StartMany(refused, refused);
        await using var dns = await DnsAsync();
        var relay = Create(dns, server.Port, https);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.7.0", only.Reply.EnhancedStatus);
        Assert.Equal(2, server.Connections);
    }

    [Theory]
    [InlineData("Text/Plain; charset=utf-8", true)]
    [InlineData("text/html", false)]
    public async Task AttemptAsync_PolicyMediaType_CaseInsensitiveTextPlainOnly(string contentType, bool applies)
    {
        // RFC 8461 §3.3 wants text/plain; media type names are case-insensitive (RFC 2045 §5.1).
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "mx.elsewhere.test"));
        https.ContentType = contentType;
        using var goodCertificate = MtaStsTestServer.ServerCertificate("good.sts.test");
        await using var server = Start(applies ? new[] { Close() } : Delivering(goodCertificate));
        await using var dns = await DnsAsync();
        var relay = Create(dns, server.Port, https);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(applies ? DeliveryOutcome.TransientFailure : DeliveryOutcome.Delivered, only.Outcome);
    }

    [Fact]
    public async Task AttemptAsync_EnforceAndNoMxMatchesPattern_TransientWithoutConnecting()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "mx.elsewhere.test"));
        await using var server = Start(Close());
        await using var dns = await DnsAsync();
        var relay = Create(dns, server.Port, https);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Contains("matches its MTA-STS policy", only.Reply.Text);
        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public async Task AttemptAsync_EnforceAndMxWithoutStartTls_TransientNoPlaintextDelivery()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "good.sts.test"));
        await using var server = Start(Send("220 mx ESMTP\r\n"), Expect(Ehlo), Send("250-mx\r\n250 PIPELINING\r\n"), Expect("QUIT\r\n"), Send("221 bye\r\n"), Close());
        await using var dns = await DnsAsync();
        var relay = Create(dns, server.Port, https);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Contains("MTA-STS policy is enforced", only.Reply.Text);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task AttemptAsync_TestingModeAndMismatchingCertificate_DeliversAnyway()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("testing", "good.sts.test"));
        using var goodCertificate = MtaStsTestServer.ServerCertificate("good.sts.test");
        // bad.sts.test matches no pattern and presents another name's certificate: both only logged.
        await using var server = Start(Delivering(goodCertificate));
        await using var dns = await DnsAsync();
        var relay = Create(dns, server.Port, https);

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Equal($"bad.sts.test:{server.Port}", result.RemoteHost);
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_PolicyCachedById_FetchedOnceForTwoMessages()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "good.sts.test"));
        using var goodCertificate = MtaStsTestServer.ServerCertificate("good.sts.test");
        await using var server = StartMany(Delivering(goodCertificate), Delivering(goodCertificate));
        await using var dns = await DnsAsync();
        // idle_timeout 0: a new session per message, so the scripts stay simple.
        var relay = CreateMx(dns.Server, server.Port, null,
            ("idle_timeout", 0),
            ("tls", new (string, object)[] { ("ca_file", _caFile) }),
            ("mta_sts", new (string, object)[] { ("https_port", https.Port), ("ca_file", _caFile) }));

        for (int i = 0; i < 2; i++)
        {
            var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
            Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        }
        await DisposeAsync(relay);
        Assert.Equal(1, https.Requests);
    }

    [Fact]
    public async Task AttemptAsync_PolicyServerCertificateUntrusted_NoPolicyOpportunisticDelivery()
    {
        // Without mta_sts.ca_file the test CA is not trusted: the fetch fails, no policy applies.
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "mx.elsewhere.test"));
        using var goodCertificate = MtaStsTestServer.ServerCertificate("good.sts.test");
        await using var server = Start(Delivering(goodCertificate));
        await using var dns = await DnsAsync();
        var relay = CreateMx(dns.Server, server.Port, null, ("mta_sts", new (string, object)[] { ("https_port", https.Port) }));

        var result = await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None);
        await DisposeAsync(relay);

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Equal(0, https.Requests);
    }

    [Theory]
    [InlineData("mail.example.com", "mail.example.com", true)]
    [InlineData("MAIL.Example.com.", "mail.example.com", true)]
    [InlineData("a.example.com", "*.example.com", true)]
    [InlineData("a.b.example.com", "*.example.com", false)]
    [InlineData("example.com", "*.example.com", false)]
    [InlineData("mail.example.org", "mail.example.com", false)]
    public void Matches_Patterns_AsRfc8461Section41(string host, string pattern, bool expected) =>
        Assert.Equal(expected, new MtaStsPolicy(MtaStsMode.Enforce, [pattern], TimeSpan.FromDays(1)).Matches(host));

    [Fact]
    public void Parse_PolicyFile_ReadsEveryField()
    {
        var policy = MtaStsPolicy.Parse("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\nextension: ignored\n");
        Assert.NotNull(policy);
        Assert.Equal(MtaStsMode.Enforce, policy.Mode);
        Assert.Equal(["mail.example.com", "*.example.net"], policy.Mx);
        Assert.Equal(TimeSpan.FromDays(7), policy.MaxAge);
    }

    [Theory]
    [InlineData("version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 10\n")]
    [InlineData("version: STSv1\nmode: strict\nmx: a.test\nmax_age: 10\n")]
    [InlineData("version: STSv1\nmode: enforce\nmax_age: 10\n")]
    [InlineData("version: STSv1\nmode: enforce\nmx: a.test\n")]
    public void Parse_InvalidPolicy_Null(string text) => Assert.Null(MtaStsPolicy.Parse(text));

    [Fact]
    public void Validate_MtaStsOptions_ErrorsNameTheKeyPath()
    {
        var error = Assert.Throws<ConfigException>(() => SmtpRelayFactory.ForMx().Validate(Options(("mta_sts", new (string, object)[] { ("timeout", 0) }))));
        Assert.Equal("relay.out.mta_sts.timeout", error.KeyPath);
        error = Assert.Throws<ConfigException>(() => SmtpRelayFactory.ForMx().Validate(Options(("mta_sts", "maybe"))));
        Assert.Equal("relay.out.mta_sts", error.KeyPath);
        error = Assert.Throws<ConfigException>(() => new SmtpRelayFactory(lmtp: false).Validate(Options(("host", "h"), ("mta_sts", true))));
        Assert.Equal("relay.out.mta_sts", error.KeyPath);
    }

    private IRelay CreateWithCache(LocalDnsServer dns, int smtpPort, MtaStsTestServer https, string cacheFile) =>
        CreateMx(dns.Server, smtpPort, null,
            ("idle_timeout", 0),
            ("tls", new (string, object)[] { ("ca_file", _caFile) }),
            ("mta_sts", new (string, object)[] { ("https_port", https.Port), ("ca_file", _caFile), ("cache_file", cacheFile) }));

    [Fact]
    public async Task AttemptAsync_CacheFile_PolicyKeptAcrossRestart()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "good.sts.test"));
        using var goodCertificate = MtaStsTestServer.ServerCertificate("good.sts.test");
        await using var server = StartMany(Delivering(goodCertificate), Delivering(goodCertificate));
        await using var dns = await DnsAsync();
        var cacheFile = System.IO.Path.Combine(TestPaths.NewTempDir("mta-sts-cache"), "mta-sts.json");

        var first = CreateWithCache(dns, server.Port, https, cacheFile);
        Assert.True((await first.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None)).AllDelivered);
        await DisposeAsync(first);
        Assert.Contains("\"domain\": \"sts.test\"", await File.ReadAllTextAsync(cacheFile));

        // A new relay (a restart) knows the policy from the file: the same record id needs no fetch,
        // and the policy is enforced (only good.sts.test, verified TLS) from the first message.
        var second = CreateWithCache(dns, server.Port, https, cacheFile);
        Assert.True((await second.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None)).AllDelivered);
        await DisposeAsync(second);

        Assert.Equal(1, https.Requests);
        await server.Completion;
    }

    [Fact]
    public async Task AttemptAsync_CacheFileDamaged_IgnoredAndRewritten()
    {
        await using var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "good.sts.test"));
        using var goodCertificate = MtaStsTestServer.ServerCertificate("good.sts.test");
        await using var server = Start(Delivering(goodCertificate));
        await using var dns = await DnsAsync();
        var cacheFile = System.IO.Path.Combine(TestPaths.NewTempDir("mta-sts-cache"), "mta-sts.json");
        await File.WriteAllTextAsync(cacheFile, "{ not json");

        var relay = CreateWithCache(dns, server.Port, https, cacheFile);
        Assert.True((await relay.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None)).AllDelivered);
        await DisposeAsync(relay);

        Assert.Equal(1, https.Requests);
        using var document = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(cacheFile));
        Assert.Equal("enforce", document.RootElement.GetProperty("policies")[0].GetProperty("mode").GetString());
    }

    [Fact]
    public void Create_CacheFileInMissingDirectory_ErrorNamesTheKey()
    {
        var missing = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "mta-sts.json");
        var error = Assert.Throws<ConfigException>(() => { CreateMx("127.0.0.1:53", 25, null, ("mta_sts", new (string, object)[] { ("cache_file", missing) })); });

        Assert.Equal("relay.out.mta_sts.cache_file", error.KeyPath);
    }

    [Fact]
    public async Task AttemptAsync_CachedPolicyAfterRestartWithFetchBlocked_StillEnforced()
    {
        var cacheFile = System.IO.Path.Combine(TestPaths.NewTempDir("mta-sts-cache"), "mta-sts.json");
        await using var server = Start(Close());
        await using (var https = MtaStsTestServer.Start("mta-sts.sts.test", Policy("enforce", "mx.elsewhere.test")))
        await using (var dns = await DnsAsync())
        {
            var first = CreateWithCache(dns, server.Port, https, cacheFile);
            var refused = Assert.Single((await first.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None)).Recipients);
            await DisposeAsync(first);
            Assert.Contains("matches its MTA-STS policy", refused.Reply.Text);
        }

        // After a restart an attacker hides the TXT record and blocks the policy server: the
        // policy from the file still applies, so nothing goes to an exchanger it does not list.
        await using var blockedHttps = MtaStsTestServer.Start("mta-sts.sts.test", "not a policy");
        await using var strippedDns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Mx("sts.test", "bad.sts.test", 10), LocalDnsServer.Host("bad.sts.test", "127.0.0.1"));
        var second = CreateWithCache(strippedDns, server.Port, blockedHttps, cacheFile);
        var result = Assert.Single((await second.AttemptAsync(Envelope(Message, "rcpt@sts.test"), 0, CancellationToken.None)).Recipients);
        await DisposeAsync(second);

        Assert.Equal(DeliveryOutcome.TransientFailure, result.Outcome);
        Assert.Contains("matches its MTA-STS policy", result.Reply.Text);
        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public void Load_EditedOrOddEntries_OnlyValidOnesKept()
    {
        var now = DateTimeOffset.UtcNow;
        var path = System.IO.Path.Combine(TestPaths.NewTempDir("mta-sts-cache"), "mta-sts.json");
        string Entry(string domain, string mode, string mx, DateTimeOffset expires) =>
            $$"""{"domain": {{domain}}, "id": "1", "mode": "{{mode}}", "mx": {{mx}}, "max_age": 86400, "expires": "{{expires:O}}"}""";
        File.WriteAllText(path, "{\"policies\": [" + string.Join(",",
            Entry("\"good.test\"", "enforce", "[\"mx.good.test\"]", now.AddDays(1)),
            Entry("\"numeric.test\"", "7", "[\"mx.test\"]", now.AddDays(1)),
            Entry("\"list.test\"", "testing, enforce", "[\"mx.test\"]", now.AddDays(1)),
            Entry("\"nullmx.test\"", "enforce", "[null]", now.AddDays(1)),
            Entry("\"nomx.test\"", "enforce", "[]", now.AddDays(1)),
            Entry("null", "enforce", "[\"mx.test\"]", now.AddDays(1)),
            Entry("\"expired.test\"", "enforce", "[\"mx.test\"]", now.AddDays(-1)),
            Entry("\"far.test\"", "testing", "[\"mx.far.test\"]", now.AddYears(70))) + "]}");
        var file = new MtaStsCacheFile(path, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        var entries = file.Load(now);

        Assert.Equal(["good.test", "far.test"], entries.Select(e => e.Domain));
        Assert.True(entries[1].Expires <= now + TimeSpan.FromSeconds(MtaStsPolicy.MaxAgeLimit));
        File.WriteAllText(path, "[1, 2]");
        Assert.Empty(file.Load(now));
    }
}
