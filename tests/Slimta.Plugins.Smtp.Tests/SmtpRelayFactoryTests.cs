using System.Reflection;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using static Slimta.Plugins.Smtp.Tests.RelayTestSupport;

using Slimta.Testing;

namespace Slimta.Plugins.Smtp.Tests;

public sealed class SmtpRelayFactoryTests
{
    private static readonly SmtpRelayFactory Static = new(lmtp: false);
    private static readonly SmtpRelayFactory Lmtp = new(lmtp: true);

    [Fact]
    public void Validate_MisspelledKey_NamesKeyPath()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("hots", "mx"))));

        Assert.Equal("relay.out.hots", e.KeyPath);
        Assert.Contains("unknown key", e.Message);
    }

    [Fact]
    public void Validate_StaticWithoutHost_SaysHostIsRequired()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("port", 25))));

        Assert.Equal("relay.out", e.KeyPath);
        Assert.Contains("'host'", e.Message);
    }

    [Fact]
    public void Validate_PortOutOfRange_NamesPort()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("port", 70000))));

        Assert.Equal("relay.out.port", e.KeyPath);
    }

    [Fact]
    public void Validate_ZeroCommandTimeout_NamesKey()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("command_timeout", 0))));

        Assert.Equal("relay.out.command_timeout", e.KeyPath);
    }

    [Fact]
    public void Validate_UnknownTlsKey_NamesNestedPath()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("tls", new (string, object)[] { ("verfy", true) }))));

        Assert.Equal("relay.out.tls.verfy", e.KeyPath);
    }

    [Fact]
    public void Validate_TlsRequiredNotBoolean_NamesNestedPath()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("tls", new (string, object)[] { ("required", "maybe") }))));

        Assert.Equal("relay.out.tls.required", e.KeyPath);
    }

    [Fact]
    public void Validate_CredentialsWithoutPassword_NamesCredentials()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("credentials", new (string, object)[] { ("username", "u") }))));

        Assert.Equal("relay.out.credentials", e.KeyPath);
        Assert.Contains("password", e.Message);
    }

    [Fact]
    public void Validate_ConcurrentConnectionsZero_NamesKey()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("concurrent_connections", 0))));

        Assert.Equal("relay.out.concurrent_connections", e.KeyPath);
    }

    [Fact]
    public void Validate_ChainMessagesNotBoolean_NamesKey()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("chain_messages", "sometimes"))));

        Assert.Equal("relay.out.chain_messages", e.KeyPath);
    }

    [Fact]
    public void Validate_FullStaticConfigWithHostTypeKey_Passes()
    {
        Static.Validate(Options(
            ("type", "static"), ("host", "smarthost.example"), ("port", 587), ("ehlo_as", "{fqdn}"),
            ("connect_timeout", 5), ("command_timeout", 10), ("data_timeout", 20), ("idle_timeout", 0),
            ("concurrent_connections", 3), ("chain_messages", false),
            ("tls", new (string, object)[] { ("required", true), ("verify", false), ("ca_file", "ca.pem") }),
            ("credentials", new (string, object)[] { ("username", "u"), ("password", "p") })));
    }

    [Fact]
    public void Validate_LmtpWithoutHost_Passes()
    {
        Lmtp.Validate(Options(("type", "lmtp")));
    }

    [Fact]
    public void Create_MissingCaFile_NamesCaFileKey()
    {
        var options = Options(("host", "mx"), ("tls", new (string, object)[] { ("ca_file", "/nonexistent/ca.pem") }));

        var e = Assert.Throws<ConfigException>(() => Static.Create(options, Context()));

        Assert.Equal("relay.out.tls.ca_file", e.KeyPath);
    }

    [Fact]
    public void Validate_MxWithHostKey_HostIsUnknownForMx()
    {
        var e = Assert.Throws<ConfigException>(() => SmtpRelayFactory.ForMx().Validate(Options(("host", "mx"))));

        Assert.Equal("relay.out.host", e.KeyPath);
    }

    [Fact]
    public void Validate_MxFullConfig_Passes()
    {
        SmtpRelayFactory.ForMx().Validate(Options(
            ("type", "mx"), ("ipv4_only", true), ("eight_bit", "refuse"), ("connect_retries", 0),
            ("force_mx", new (string, object)[] { ("example.com", "smtp.example.net:2525"), ("v6.example", "[::1]:25") }),
            ("dns", new (string, object)[] { ("servers", "127.0.0.1:5353"), ("timeout", 2) }),
            ("circuit_breaker", new (string, object)[] { ("failures", 3), ("duration", 10) })));
    }

    [Fact]
    public void Validate_MxDnsServerNotAnAddress_NamesServers()
    {
        var e = Assert.Throws<ConfigException>(() => SmtpRelayFactory.ForMx().Validate(Options(("dns", new (string, object)[] { ("servers", "dns.example") }))));

        Assert.Equal("relay.out.dns.servers", e.KeyPath);
    }

    [Fact]
    public void Validate_ForceMxBadPort_NamesDomain()
    {
        var e = Assert.Throws<ConfigException>(() => SmtpRelayFactory.ForMx().Validate(Options(("force_mx", new (string, object)[] { ("example.com", "mx:99999") }))));

        Assert.Equal("relay.out.force_mx.example.com", e.KeyPath);
    }

    [Fact]
    public void Validate_EightBitUnknownMode_NamesKey()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("eight_bit", "drop"))));

        Assert.Equal("relay.out.eight_bit", e.KeyPath);
    }

    [Fact]
    public void Validate_CircuitBreakerOneFailure_NamesNestedKey()
    {
        var e = Assert.Throws<ConfigException>(() => Static.Validate(Options(("host", "mx"), ("circuit_breaker", new (string, object)[] { ("failures", 1) }))));

        Assert.Equal("relay.out.circuit_breaker.failures", e.KeyPath);
    }

    [Fact]
    public void Register_Plugin_AddsStaticLmtpAndMxRelays()
    {
        var registry = new RecordingRegistry();
        var attribute = typeof(SmtpRelayPlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>();

        new SmtpRelayPlugin().Register(registry);

        Assert.Equal(typeof(SmtpRelayPlugin), attribute?.EntryType);
        Assert.Equal(["lmtp", "mx", "static"], registry.Relays.Keys.Order(StringComparer.Ordinal));
    }
}
