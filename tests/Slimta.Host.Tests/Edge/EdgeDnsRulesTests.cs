using Slimta.Host.Edge.Dnsbl;
using Slimta.Testing;

namespace Slimta.Host.Tests.Edge;

public class EdgeDnsRulesTests
{
    private static Dictionary<string, object?> Dns(LocalDnsServer dns) =>
        new() { ["servers"] = new[] { dns.Server }, ["timeout"] = 2 };

    private static Dictionary<string, object?> Rules(string key, object value) => new() { [key] = value };

    [Fact]
    public async Task Connect_ListedByDnsbl_Gets554AndIsClosed()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Host("1.0.0.127.zen.test", "127.0.0.2"));
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns), ["rules"] = Rules("dnsbl", new[] { "clean.test", "zen.test" }) });
        await using var client = await edge.ConnectAsync();
        var reply = await client.ReadReplyAsync();
        Assert.NotNull(reply);
        Assert.StartsWith("554 5.7.1 ", reply);
        Assert.Contains("zen.test", reply);
        Assert.True(await client.IsClosedAsync());
        Assert.Empty(edge.Queue.Envelopes);
    }

    [Fact]
    public async Task Connect_NotListed_IsGreeted()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Host("2.0.0.127.zen.test", "127.0.0.2"));
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns), ["rules"] = Rules("dnsbl", "zen.test") });
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
    }

    [Fact]
    public async Task Connect_ListedButInIgnoredNetwork_IsGreeted()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Host("1.0.0.127.zen.test", "127.0.0.2"));
        await using var edge = await EdgeFixture.StartAsync(new()
        {
            ["dns"] = Dns(dns),
            ["rules"] = Rules("dnsbl", new Dictionary<string, object?> { ["address"] = "zen.test", ["ignore"] = new[] { "10.0.0.0/8", "127.0.0.0/8" } }),
        });
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
    }

    [Fact]
    public async Task Connect_DnsblAnswer127001OrDnsError_IsNotAListing()
    {
        // RFC 5782 §2.1: 127.0.0.1 is never a listing; REFUSED (a zone outside the server) is a lookup failure.
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Host("1.0.0.127.zen.test", "127.0.0.1"));
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns), ["rules"] = Rules("dnsbl", new[] { "zen.test", "bl.example.org" }) });
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        Assert.Contains(edge.Logs.Lines, m => m.Contains("bl.example.org", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("192.0.2.3", "3.2.0.192")]
    [InlineData("2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2")]
    public void ReversedName_Address_FollowsRfc5782(string address, string expected)
    {
        Assert.Equal(expected, DnsblChecker.ReversedName(System.Net.IPAddress.Parse(address)));
    }

    [Fact]
    public async Task Mail_SpfFail_Gets550With5723()
    {
        await using var dns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Txt("fail.test", "v=spf1 ip4:192.0.2.0/24 -all"),
            LocalDnsServer.Txt("pass.test", "v=spf1 ip4:127.0.0.1 -all"));
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns), ["rules"] = Rules("reject_spf", new[] { "fail", "softfail", "temperror" }) });
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\n");
        await client.ExpectAsync("250");
        await client.SendAsync("MAIL FROM:<a@fail.test>\r\n");
        await client.ExpectAsync("550 5.7.23 ");
        await client.SendAsync("MAIL FROM:<a@pass.test>\r\n");
        await client.ExpectAsync("250 2.1.0");
    }

    [Fact]
    public async Task Mail_SpfTempErrorRefused_Gets451()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Txt("fail.test", "v=spf1 -all"));
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns), ["rules"] = Rules("reject_spf", new[] { "fail", "temperror" }) });
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n");
        await client.ExpectAsync("250");
        await client.ExpectAsync("451 4.4.3 ");
    }

    [Fact]
    public async Task Mail_SpfResultNotListed_IsAccepted()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Txt("soft.test", "v=spf1 ~all"));
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns), ["rules"] = Rules("reject_spf", "fail") });
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\nMAIL FROM:<a@soft.test>\r\n");
        await client.ExpectAsync("250");
        await client.ExpectAsync("250 2.1.0");
    }

    [Theory]
    [InlineData(true, "client.test")]
    [InlineData(false, null)]
    public async Task Deliver_ReverseDns_RecordsOnlyAForwardConfirmedName(bool confirmed, string? expected)
    {
        await using var dns = await LocalDnsServer.StartAsync(confirmed
            ? [LocalDnsServer.Host("client.test", "127.0.0.1")]
            : [LocalDnsServer.Ptr("1.0.0.127.in-addr.arpa", "liar.test")]);
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns), ["reverse_dns"] = "true" });
        await SendMessageAsync(edge, "Subject: x\r\n\r\nhi\r\n", "250 2.6.0");
        var envelope = Assert.Single(edge.Queue.Envelopes);
        Assert.Equal(expected, envelope.Client.ReverseDns);
    }

    [Fact]
    public async Task Deliver_ReverseDnsOff_RecordsNoName()
    {
        await using var dns = await LocalDnsServer.StartAsync(LocalDnsServer.Host("client.test", "127.0.0.1"));
        await using var edge = await EdgeFixture.StartAsync(new() { ["dns"] = Dns(dns) });
        await SendMessageAsync(edge, "Subject: x\r\n\r\nhi\r\n", "250 2.6.0");
        Assert.Null(Assert.Single(edge.Queue.Envelopes).Client.ReverseDns);
    }

    internal static async Task SendMessageAsync(EdgeFixture edge, string message, string expected, string sender = "a@client.test", string recipient = "b@remote.test")
    {
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync($"EHLO client.test\r\nMAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n");
        await client.ExpectAsync("250");
        await client.ExpectAsync("250 2.1.0");
        await client.ExpectAsync("250 2.1.5");
        await client.ExpectAsync("354");
        await client.SendAsync(message + ".\r\n");
        await client.ExpectAsync(expected);
    }
}
