using System.Net;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Edge;

namespace Slimta.Host.Tests.Edge;

public class SmtpEdgeFactoryTests
{
    private static Dictionary<string, object?> Listener(object port) => new() { ["interface"] = "127.0.0.1", ["port"] = port };

    private static ConfigException Invalid(Dictionary<string, object?> entries) =>
        Assert.Throws<ConfigException>(() => new SmtpEdgeFactory().Validate(ConfigBuilder.Edge(entries)));

    [Fact]
    public void Validate_Minimal_UsesDefaults()
    {
        var options = SmtpEdgeOptionsParser.Parse(ConfigBuilder.Edge(new() { ["listener"] = Listener(25) }));
        Assert.Equal(new SmtpListenerOptions(IPAddress.Loopback, 25), Assert.Single(options.Listeners));
        Assert.Equal(10485760, options.MaxSize);
        Assert.True(options.MaxRecipients >= 100);
        Assert.Equal("{fqdn} ESMTP Slimta", options.Banner);
        Assert.True(options.Senders.IsEmpty);
        Assert.True(options.Recipients.IsEmpty);
    }

    [Fact]
    public void Validate_FullOptions_AreRead()
    {
        var options = SmtpEdgeOptionsParser.Parse(ConfigBuilder.Edge(new()
        {
            ["listeners"] = new[] { Listener(25), new Dictionary<string, object?> { ["interface"] = "::1", ["port"] = 587 } },
            ["hostname"] = "mx.{fqdn}",
            ["max_size"] = 1048576,
            ["max_recipients"] = 200,
            ["max_connections"] = 5,
            ["max_errors"] = 3,
            ["command_timeout"] = 30,
            ["data_timeout"] = "0.5",
            ["rules"] = new Dictionary<string, object?>
            {
                ["banner"] = "{hostname} ready",
                ["only_recipients"] = new[] { "@example.test", "boss@other.test" },
                ["regex_senders"] = new[] { @".*@client\.test" },
                ["lookup_recipients"] = new Dictionary<string, object?> { ["type"] = "config", ["map"] = new Dictionary<string, object?> { ["a@example.test"] = "x" } },
            },
        }));
        Assert.Equal(2, options.Listeners.Count);
        Assert.Equal(IPAddress.IPv6Loopback, options.Listeners[1].Address);
        Assert.Equal(1048576, options.MaxSize);
        Assert.Equal(200, options.MaxRecipients);
        Assert.Equal(5, options.MaxConnections);
        Assert.Equal(3, options.MaxErrors);
        Assert.Equal(TimeSpan.FromSeconds(30), options.CommandTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.DataTimeout);
        Assert.Equal("{hostname} ready", options.Banner);
        Assert.True(options.Recipients.IsAllowed("A@Example.Test"));
        Assert.False(options.Recipients.IsAllowed("b@example.test"));
        Assert.False(options.Recipients.IsAllowed("a@sub.example.test"));
        Assert.True(options.Senders.IsAllowed("x@client.test"));
        Assert.False(options.Senders.IsAllowed("x@client.test.evil"));
    }

    [Fact]
    public void Validate_TlsImmediatelyWithoutTls_IsRefused()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["tls_immediately"] = "true" });
        Assert.Equal("edge.inbound.tls_immediately", ex.KeyPath);
    }

    [Fact]
    public void Validate_TlsWithoutCertfile_NamesTheKey()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["tls"] = new Dictionary<string, object?> { ["keyfile"] = "k.pem" } });
        Assert.StartsWith("edge.inbound.tls", ex.KeyPath);
        Assert.Contains("certfile", ex.Message);
    }

    [Fact]
    public void Validate_SecurityKeys_AreRead()
    {
        var options = SmtpEdgeOptionsParser.Parse(ConfigBuilder.Edge(new()
        {
            ["listener"] = Listener(25),
            ["tls"] = new Dictionary<string, object?> { ["certfile"] = "c.pem", ["keyfile"] = "k.pem", ["ca_certs"] = "ca.pem" },
            ["tls_immediately"] = "true",
            ["proxyprotocol"] = "true",
            ["rules"] = new Dictionary<string, object?>(SmtpEdgeAuthTests.Credentials()) { ["require_tls"] = "true" },
        }));
        Assert.Equal(new Slimta.Host.Edge.Tls.TlsFileOptions("c.pem", "k.pem", "ca.pem"), options.Tls);
        Assert.True(options.TlsImmediately);
        Assert.True(options.ProxyProtocol);
        Assert.True(options.RequireTls);
        Assert.False(options.AuthPlaintext);
        Assert.NotNull(options.Credentials);
    }

    [Fact]
    public void Validate_CredentialsWithoutTlsOrPlaintext_IsRefused()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["rules"] = SmtpEdgeAuthTests.Credentials() });
        Assert.Equal("edge.inbound.rules.lookup_credentials", ex.KeyPath);
    }

    [Fact]
    public void Validate_RequireTlsWithoutTls_IsRefused()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["rules"] = new Dictionary<string, object?> { ["require_tls"] = "true" } });
        Assert.Equal("edge.inbound.rules.require_tls", ex.KeyPath);
    }

    [Fact]
    public void Validate_PlaintextPasswordInCredentials_IsRefusedWithoutEchoingIt()
    {
        var ex = Invalid(new()
        {
            ["listener"] = Listener(25),
            ["rules"] = new Dictionary<string, object?>
            {
                ["auth_plaintext"] = "true",
                ["lookup_credentials"] = new Dictionary<string, object?> { ["type"] = "config", ["map"] = new Dictionary<string, object?> { ["alice"] = "hunter2" } },
            },
        });
        Assert.Equal("edge.inbound.rules.lookup_credentials.map.alice", ex.KeyPath);
        Assert.DoesNotContain("hunter2", ex.Message);
    }

    [Fact]
    public void Create_MissingCertificateFile_IsAConfigError()
    {
        var context = new ComponentContext(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, "mx", "mx.test", Path.GetTempPath());
        var options = ConfigBuilder.Edge(new() { ["listener"] = Listener(0), ["tls"] = new Dictionary<string, object?> { ["certfile"] = "/nonexistent/cert.pem" } });
        var ex = Assert.Throws<ConfigException>(() => new SmtpEdgeFactory().Create(options, new RecordingQueue(), context));
        Assert.Contains("/nonexistent/cert.pem", ex.Message);
    }

    [Fact]
    public void Validate_FeatureSwitchedOff_IsAllowed()
    {
        new SmtpEdgeFactory().Validate(ConfigBuilder.Edge(new() { ["listener"] = Listener(25), ["proxyprotocol"] = "false", ["tls_immediately"] = "false" }));
    }

    [Fact]
    public void Validate_UnknownKey_NamesItsPath()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["max_sise"] = 10 });
        Assert.Equal("edge.inbound.max_sise", ex.KeyPath);
    }

    [Fact]
    public void Validate_UnknownRuleKey_NamesItsPath()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["rules"] = new Dictionary<string, object?> { ["only_sender"] = "a@b" } });
        Assert.Equal("edge.inbound.rules.only_sender", ex.KeyPath);
    }

    [Fact]
    public void Validate_NoListener_IsError()
    {
        var ex = Invalid(new() { ["hostname"] = "mx" });
        Assert.Contains("listener", ex.Message);
    }

    [Fact]
    public void Validate_BothListenerKeys_IsError()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["listeners"] = new[] { Listener(26) } });
        Assert.Equal("edge.inbound.listeners", ex.KeyPath);
    }

    [Fact]
    public void Validate_BadPort_NamesListenerPath()
    {
        var ex = Invalid(new() { ["listeners"] = new[] { Listener(25), Listener(70000) } });
        Assert.Equal("edge.inbound.listeners.1.port", ex.KeyPath);
    }

    [Fact]
    public void Validate_BadInterface_IsError()
    {
        var ex = Invalid(new() { ["listener"] = new Dictionary<string, object?> { ["interface"] = "not-an-ip", ["port"] = 25 } });
        Assert.Equal("edge.inbound.listener.interface", ex.KeyPath);
    }

    [Fact]
    public void Validate_TooFewRecipients_IsError()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["max_recipients"] = 50 });
        Assert.Equal("edge.inbound.max_recipients", ex.KeyPath);
    }

    [Fact]
    public void Validate_BadRegex_NamesItsIndex()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["rules"] = new Dictionary<string, object?> { ["regex_recipients"] = new[] { "ok", "(unclosed" } } });
        Assert.Equal("edge.inbound.rules.regex_recipients.1", ex.KeyPath);
    }

    [Theory]
    [InlineData("ldap", "unknown lookup type")]
    public void Validate_LookupTypeOtherThanConfig_IsError(string type, string message)
    {
        var ex = Invalid(new()
        {
            ["listener"] = Listener(25),
            ["rules"] = new Dictionary<string, object?> { ["lookup_senders"] = new Dictionary<string, object?> { ["type"] = type } },
        });
        Assert.Equal("edge.inbound.rules.lookup_senders.type", ex.KeyPath);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Validate_ZeroTimeout_IsError()
    {
        var ex = Invalid(new() { ["listener"] = Listener(25), ["command_timeout"] = 0 });
        Assert.Equal("edge.inbound.command_timeout", ex.KeyPath);
    }
}
