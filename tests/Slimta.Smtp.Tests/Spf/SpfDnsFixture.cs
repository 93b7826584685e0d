using Slimta.Smtp.Dns;
using Slimta.Smtp.Spf;
using Slimta.Testing;

namespace Slimta.Smtp.Tests.Spf;

/// <summary>One dnsmasq with the SPF records the SPF tests evaluate (RFC 7208 cases), shared by a test class.</summary>
public sealed class SpfDnsFixture : IAsyncLifetime
{
    private LocalDnsServer? _dns;

    public LocalDnsServer Dns => _dns ?? throw new InvalidOperationException("not started");

    public SpfEvaluator Evaluator { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _dns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Txt("pass.test", "v=spf1 ip4:127.0.0.0/8 -all"),
            LocalDnsServer.Txt("fail.test", "v=spf1 ip4:192.0.2.0/24 -all"),
            LocalDnsServer.Txt("softfail.test", "v=spf1 ~all"),
            LocalDnsServer.Txt("neutral.test", "v=spf1 ?all"),
            LocalDnsServer.Txt("a.test", "v=spf1 a -all"),
            LocalDnsServer.Host("a.test", "127.0.0.1"),
            LocalDnsServer.Txt("acidr.test", "v=spf1 a:net.test/24 -all"),
            LocalDnsServer.Host("net.test", "127.0.0.9"),
            LocalDnsServer.Txt("mx.test", "v=spf1 mx -all"),
            LocalDnsServer.Mx("mx.test", "mail.mx.test", 10),
            LocalDnsServer.Host("mail.mx.test", "127.0.0.1"),
            LocalDnsServer.Txt("include.test", "v=spf1 include:fail.test include:pass.test -all"),
            LocalDnsServer.Txt("includenone.test", "v=spf1 include:nothing.test -all"),
            LocalDnsServer.Txt("includetemp.test", "v=spf1 include:example.org -all"),
            LocalDnsServer.Txt("redirect.test", "v=spf1 redirect=fail.test"),
            LocalDnsServer.Txt("redirectnone.test", "v=spf1 redirect=nothing.test"),
            LocalDnsServer.Txt("exists.test", "v=spf1 exists:%{ir}.%{v}.ex.test -all"),
            LocalDnsServer.Host("1.0.0.127.in-addr.ex.test", "127.0.0.2"),
            LocalDnsServer.Txt("macro.test", "v=spf1 exists:%{l}.%{o}.users.test -all"),
            LocalDnsServer.Host("alice.macro.test.users.test", "127.0.0.2"),
            LocalDnsServer.Txt("hmacro.test", "v=spf1 exists:%{h}.hosts.test -all"),
            LocalDnsServer.Host("client.example.hosts.test", "127.0.0.2"),
            LocalDnsServer.Txt("helo.test", "v=spf1 -all"),
            LocalDnsServer.Txt("loop.test", "v=spf1 include:loop.test -all"),
            LocalDnsServer.Txt("void.test", "v=spf1 a:v1.test a:v2.test a:v3.test -all"),
            LocalDnsServer.Txt("void2.test", "v=spf1 a:v1.test a:v2.test -all"),
            LocalDnsServer.Txt("two.test", "v=spf1 -all"),
            LocalDnsServer.Txt("two.test", "v=spf1 +all"),
            LocalDnsServer.Txt("bad.test", "v=spf1 foo:bar -all"),
            LocalDnsServer.Txt("badlate.test", "v=spf1 +all ip4:300.1.1.1"),
            LocalDnsServer.Txt("nospf.test", "hello world"),
            LocalDnsServer.Txt("ip6.test", "v=spf1 ip6:::1 -all"),
            LocalDnsServer.Txt("spf2.test", "v=spf10 +all"));
        Evaluator = new SpfEvaluator(new DnsClientResolver(new DnsSettings([Dns.EndPoint], TimeSpan.FromSeconds(2)), TimeProvider.System), "mx.example.test");
    }

    public async Task DisposeAsync()
    {
        if (_dns is not null)
        {
            await _dns.DisposeAsync();
        }
    }
}
