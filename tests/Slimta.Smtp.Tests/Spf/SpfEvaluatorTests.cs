using System.Net;
using Slimta.Smtp.Spf;

namespace Slimta.Smtp.Tests.Spf;

public class SpfEvaluatorTests(SpfDnsFixture dns) : IClassFixture<SpfDnsFixture>
{
    private static readonly IPAddress Client = IPAddress.Loopback;

    private Task<SpfResult> CheckAsync(string sender, string? helo = "client.example", IPAddress? address = null) =>
        dns.Evaluator.CheckSenderAsync(address ?? Client, sender, helo, CancellationToken.None);

    [Theory]
    [InlineData("user@pass.test", SpfResult.Pass)]
    [InlineData("user@fail.test", SpfResult.Fail)]
    [InlineData("user@softfail.test", SpfResult.SoftFail)]
    [InlineData("user@neutral.test", SpfResult.Neutral)]
    [InlineData("user@a.test", SpfResult.Pass)]
    [InlineData("user@acidr.test", SpfResult.Pass)]
    [InlineData("user@mx.test", SpfResult.Pass)]
    [InlineData("user@include.test", SpfResult.Pass)]
    [InlineData("user@redirect.test", SpfResult.Fail)]
    [InlineData("user@exists.test", SpfResult.Pass)]
    [InlineData("alice@macro.test", SpfResult.Pass)]
    [InlineData("bob@macro.test", SpfResult.Fail)]
    [InlineData("user@hmacro.test", SpfResult.Pass)]
    [InlineData("user@void2.test", SpfResult.Fail)]
    public async Task CheckSenderAsync_Mechanism_GivesResult(string sender, SpfResult expected)
    {
        Assert.Equal(expected, await CheckAsync(sender));
    }

    [Theory]
    [InlineData("user@nospf.test")]
    [InlineData("user@nothing.test")]
    [InlineData("user@spf2.test")]
    [InlineData("user@localhost")]
    public async Task CheckSenderAsync_NoRecordOrNoDomain_IsNone(string sender)
    {
        Assert.Equal(SpfResult.None, await CheckAsync(sender));
    }

    [Theory]
    [InlineData("user@includenone.test")]
    [InlineData("user@redirectnone.test")]
    [InlineData("user@two.test")]
    [InlineData("user@bad.test")]
    [InlineData("user@badlate.test")]
    public async Task CheckSenderAsync_BrokenPolicy_IsPermError(string sender)
    {
        Assert.Equal(SpfResult.PermError, await CheckAsync(sender));
    }

    [Fact]
    public async Task CheckSenderAsync_IncludeLoop_HitsTheTenLookupLimit()
    {
        Assert.Equal(SpfResult.PermError, await CheckAsync("user@loop.test"));
    }

    [Fact]
    public async Task CheckSenderAsync_ThirdVoidLookup_IsPermError()
    {
        Assert.Equal(SpfResult.PermError, await CheckAsync("user@void.test"));
    }

    [Theory]
    [InlineData("user@example.org")]
    [InlineData("user@includetemp.test")]
    public async Task CheckSenderAsync_DnsError_IsTempError(string sender)
    {
        // dnsmasq answers REFUSED outside its local zones: a DNS error, not "no record".
        Assert.Equal(SpfResult.TempError, await CheckAsync(sender));
    }

    [Fact]
    public async Task CheckSenderAsync_DeadServer_IsTempErrorWithinTimeout()
    {
        var port = Slimta.Testing.FreePort.Next();
        var evaluator = new SpfEvaluator(new Slimta.Smtp.Dns.DnsClientResolver(
            new Slimta.Smtp.Dns.DnsSettings([new IPEndPoint(IPAddress.Loopback, port)], TimeSpan.FromMilliseconds(300)), TimeProvider.System), "mx.test");
        var started = DateTime.UtcNow;
        Assert.Equal(SpfResult.TempError, await evaluator.CheckSenderAsync(Client, "user@pass.test", "c", CancellationToken.None));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CheckSenderAsync_NullSender_ChecksHeloName()
    {
        Assert.Equal(SpfResult.Fail, await CheckAsync(string.Empty, helo: "helo.test"));
        Assert.Equal(SpfResult.Pass, await CheckAsync(string.Empty, helo: "pass.test"));
    }

    [Theory]
    [InlineData("", "[127.0.0.1]")]
    [InlineData("", "[IPv6:::1]")]
    [InlineData("", null)]
    [InlineData("user@[127.0.0.1]", "client.example")]
    [InlineData("user@[IPv6:::1]", "client.example")]
    public async Task CheckSenderAsync_AddressLiteralOrNoDomain_IsNone(string sender, string? helo)
    {
        // RFC 7208 §2.3/§4.3: an address literal is not a domain name: no SPF check, "none"
        // (not a DNS query that fails and reads as temperror, which reject_spf would defer).
        Assert.Equal(SpfResult.None, await CheckAsync(sender, helo));
    }

    [Fact]
    public async Task CheckSenderAsync_Ip6Client_MatchesIp6Mechanism()
    {
        Assert.Equal(SpfResult.Pass, await CheckAsync("user@ip6.test", address: IPAddress.IPv6Loopback));
        Assert.Equal(SpfResult.Fail, await CheckAsync("user@ip6.test", address: IPAddress.Loopback));
    }

    [Fact]
    public async Task CheckSenderAsync_MappedIpv4Client_IsEvaluatedAsIpv4()
    {
        Assert.Equal(SpfResult.Pass, await CheckAsync("user@pass.test", address: IPAddress.Loopback.MapToIPv6()));
    }
}
