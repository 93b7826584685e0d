using System.Net;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Edge;
using Slimta.Host.Edge.Lookups;
using Slimta.Smtp.Spf;

namespace Slimta.Host.Tests.Edge;

public class EdgeRuleOptionsTests
{
    private static Dictionary<string, object?> Edge(string key, object? value, bool rule = true) => rule
        ? new() { ["listener"] = new Dictionary<string, object?> { ["port"] = 25 }, ["rules"] = new Dictionary<string, object?> { [key] = value } }
        : new() { ["listener"] = new Dictionary<string, object?> { ["port"] = 25 }, [key] = value };

    private static SmtpEdgeOptions Parse(Dictionary<string, object?> entries) => SmtpEdgeOptionsParser.Parse(ConfigBuilder.Edge(entries));

    private static ConfigException Invalid(Dictionary<string, object?> entries) =>
        Assert.Throws<ConfigException>(() => new SmtpEdgeFactory().Validate(ConfigBuilder.Edge(entries)));

    [Fact]
    public void Parse_Defaults_NoChecks()
    {
        var checks = Parse(Edge("banner", "hi")).Checks;
        Assert.False(checks.NeedsDns);
        Assert.False(checks.ReverseDns);
        Assert.Null(checks.Dnsbl);
        Assert.Empty(checks.RejectSpf);
        Assert.Null(checks.RejectSpam);
        Assert.Empty(checks.Dns.Servers);
    }

    [Fact]
    public void Parse_DnsblForms_AreRead()
    {
        Assert.Equal(["zen.test"], Parse(Edge("dnsbl", "zen.test.")).Checks.Dnsbl!.Zones);
        Assert.Equal(["a.test", "b.test"], Parse(Edge("dnsbl", new[] { "a.test", "b.test" })).Checks.Dnsbl!.Zones);
        var map = Parse(Edge("dnsbl", new Dictionary<string, object?> { ["address"] = "zen.test", ["ignore"] = new[] { "10.0.0.0/8", "192.0.2.7" } })).Checks.Dnsbl!;
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.0.2.7/32")], map.Ignore);
        Assert.Null(Parse(Edge("dnsbl", "false")).Checks.Dnsbl);
    }

    [Theory]
    [InlineData("ignore", "10.0.0.1/8")]
    [InlineData("ignore", "not-a-net")]
    [InlineData("address", "bad zone")]
    public void Validate_BadDnsbl_NamesItsPath(string key, string value)
    {
        var dnsbl = new Dictionary<string, object?> { ["address"] = "zen.test", [key] = key == "ignore" ? new[] { value } : value };
        var ex = Invalid(Edge("dnsbl", dnsbl));
        Assert.StartsWith("edge.inbound.rules.dnsbl." + key, ex.KeyPath);
    }

    [Fact]
    public void Parse_RejectSpf_ReadsResults()
    {
        Assert.Equal(new HashSet<SpfResult> { SpfResult.Fail, SpfResult.SoftFail, SpfResult.TempError },
            Parse(Edge("reject_spf", new[] { "fail", "SoftFail", "temperror" })).Checks.RejectSpf);
        var ex = Invalid(Edge("reject_spf", new[] { "fial" }));
        Assert.Equal("edge.inbound.rules.reject_spf", ex.KeyPath);
        Assert.Contains("'fial'", ex.Message);
    }

    [Fact]
    public void Parse_RejectSpam_ReadsSpamd()
    {
        var spam = Parse(Edge("reject_spam", new Dictionary<string, object?> { ["type"] = "spamassassin", ["port"] = 7830 })).Checks.RejectSpam!;
        Assert.Equal(("127.0.0.1", 7830), (spam.Host, spam.Port));
        var ex = Invalid(Edge("reject_spam", new Dictionary<string, object?> { ["type"] = "rspamd" }));
        Assert.Equal("edge.inbound.rules.reject_spam.type", ex.KeyPath);
    }

    [Fact]
    public void Parse_Dns_ReadsServersAndTimeout()
    {
        var dns = Parse(Edge("dns", new Dictionary<string, object?> { ["servers"] = new[] { "127.0.0.1:5353", "::1", "[::1]:54" }, ["timeout"] = 1.5 }, rule: false)).Checks.Dns;
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:5353"), new IPEndPoint(IPAddress.IPv6Loopback, 53), IPEndPoint.Parse("[::1]:54")], dns.Servers);
        Assert.Equal(TimeSpan.FromSeconds(1.5), dns.Timeout);
        var ex = Invalid(Edge("dns", new Dictionary<string, object?> { ["servers"] = new[] { "ns.example.test" } }, rule: false));
        Assert.Equal("edge.inbound.dns.servers.0", ex.KeyPath);
    }

    [Fact]
    public void Parse_ReverseDns_NeedsDns()
    {
        var checks = Parse(Edge("reverse_dns", "yes", rule: false)).Checks;
        Assert.True(checks.ReverseDns);
        Assert.True(checks.NeedsDns);
    }

    [Fact]
    public void Parse_RedisAndSqliteLookups_AreReadWithoutConnecting()
    {
        var redis = Assert.IsType<RedisAddressLookup>(Parse(Edge("lookup_senders", new Dictionary<string, object?>
        {
            ["type"] = "redis", ["host"] = "192.0.2.1", ["port"] = 1, ["db"] = 3, ["password"] = "pw", ["key_template"] = "s:{domain}",
        })).Senders.Lookup);
        Assert.Equal(new RedisLookupSettings("s:{domain}", "192.0.2.1", 1, 3, "pw", TimeSpan.FromSeconds(5)), redis.Settings);
        Assert.DoesNotContain("pw", redis.Settings.ToString(), StringComparison.Ordinal);
        var sqlite = Assert.IsType<SqliteAddressLookup>(Parse(Edge("lookup_recipients", new Dictionary<string, object?>
        {
            ["type"] = "sqlite3", ["database"] = "users.db", ["query"] = "SELECT 1 FROM u WHERE a = :address",
        })).Recipients.Lookup);
        Assert.Equal("users.db", sqlite.Database);
    }

    [Theory]
    [InlineData("query", "DELETE FROM u WHERE a = :address")]
    [InlineData("query", "SELECT 1 FROM u WHERE a = '{address}'")]
    [InlineData("table", "x")]
    public void Validate_BadSqliteLookup_NamesItsPath(string key, string value)
    {
        var lookup = new Dictionary<string, object?> { ["type"] = "sqlite3", ["database"] = "u.db", ["query"] = "SELECT 1 FROM u WHERE a = :address", [key] = value };
        var ex = Invalid(Edge("lookup_recipients", lookup));
        Assert.Equal("edge.inbound.rules.lookup_recipients." + key, ex.KeyPath);
    }
}
