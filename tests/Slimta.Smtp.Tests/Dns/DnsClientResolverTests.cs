using System.Net;
using System.Net.Sockets;
using Slimta.Smtp.Dns;
using Slimta.Testing;

namespace Slimta.Smtp.Tests.Dns;

public class DnsClientResolverTests
{
    [Fact]
    public async Task Queries_SilentServer_AreErrorsWithinTheTimeout()
    {
        // A UDP socket that never answers: every query must end by the resolver's timeout.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var resolver = new DnsClientResolver(new DnsSettings([(IPEndPoint)silent.LocalEndPoint!], TimeSpan.FromMilliseconds(200)), TimeProvider.System);
        var started = DateTime.UtcNow;
        Assert.Equal(DnsStatus.Error, (await resolver.TextsAsync("x.test", CancellationToken.None)).Status);
        Assert.Equal(DnsStatus.Error, (await resolver.AddressesAsync("x.test", ipv6: false, CancellationToken.None)).Status);
        Assert.Equal(DnsStatus.Error, (await resolver.ReverseAsync(IPAddress.Loopback, CancellationToken.None)).Status);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "each query is bounded by the timeout");
    }

    [Fact]
    public async Task Queries_LocalServer_MapFoundNotFoundAndError()
    {
        await using var dns = await LocalDnsServer.StartAsync(
            LocalDnsServer.Host("host.test", "192.0.2.1", "2001:db8::1"),
            LocalDnsServer.Mx("host.test", "mx.host.test", 5),
            LocalDnsServer.Txt("host.test", "hello"));
        var resolver = new DnsClientResolver(new DnsSettings([dns.EndPoint], TimeSpan.FromSeconds(2)), TimeProvider.System);
        Assert.Equal([IPAddress.Parse("192.0.2.1")], (await resolver.AddressesAsync("host.test", false, CancellationToken.None)).Records);
        Assert.Equal([IPAddress.Parse("2001:db8::1")], (await resolver.AddressesAsync("host.test", true, CancellationToken.None)).Records);
        Assert.Equal([new MxHost(5, "mx.host.test")], (await resolver.MailExchangersAsync("host.test", CancellationToken.None)).Records);
        Assert.Equal(["hello"], (await resolver.TextsAsync("host.test", CancellationToken.None)).Records);
        Assert.Equal(["host.test"], (await resolver.ReverseAsync(IPAddress.Parse("192.0.2.1"), CancellationToken.None)).Records);
        Assert.Equal(DnsStatus.NotFound, (await resolver.TextsAsync("missing.test", CancellationToken.None)).Status);
        Assert.Equal(DnsStatus.NotFound, (await resolver.MailExchangersAsync("mx.host.test", CancellationToken.None)).Status);
        Assert.Equal(DnsStatus.Error, (await resolver.TextsAsync("example.org", CancellationToken.None)).Status);
    }
}
