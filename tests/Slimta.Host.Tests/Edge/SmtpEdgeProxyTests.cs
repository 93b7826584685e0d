using System.Net;
using System.Text;

namespace Slimta.Host.Tests.Edge;

public class SmtpEdgeProxyTests
{
    private static async Task DeliverAsync(RawSmtpClient client)
    {
        await client.SendAsync("EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@remote.test>\r\nDATA\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("354");
        await client.SendAsync("Subject: x\r\n\r\nbody\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0");
    }

    [Fact]
    public async Task Session_ProxyV1_EnvelopeHasTheOriginalClient()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["proxyprotocol"] = "true" });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint, Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.7 127.0.0.1 51234 25\r\n"));
        await client.ExpectAsync("220 ");
        await DeliverAsync(client);
        var envelope = Assert.Single(edge.Queue.Envelopes);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), envelope.Client.Address);
        Assert.Equal(51234, envelope.Client.Port);
    }

    [Fact]
    public async Task Session_ProxyV2_EnvelopeHasTheOriginalClient()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["proxyprotocol"] = "true" });
        var header = ProxyProtocolReaderTests.V2(1, 0x11, [198, 51, 100, 23, 127, 0, 0, 1, 0x01, 0x02, 0, 25]);
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint, header);
        await client.ExpectAsync("220 ");
        await DeliverAsync(client);
        Assert.Equal(IPAddress.Parse("198.51.100.23"), Assert.Single(edge.Queue.Envelopes).Client.Address);
    }

    [Fact]
    public async Task Session_ProxyWithImplicitTls_HeaderThenHandshake()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["proxyprotocol"] = "true", ["tls"] = SmtpEdgeTlsTests.Tls, ["tls_immediately"] = "true" });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint, Encoding.ASCII.GetBytes("PROXY TCP6 2001:db8::5 ::1 4000 465\r\n"));
        await client.StartTlsAsync();
        await client.ExpectAsync("220 ");
        await DeliverAsync(client);
        var envelope = Assert.Single(edge.Queue.Envelopes);
        Assert.Equal(IPAddress.Parse("2001:db8::5"), envelope.Client.Address);
        Assert.Equal("ESMTPS", envelope.Client.Protocol);
    }

    [Fact]
    public async Task Session_BadProxyHeader_ClosesWithoutGreeting()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["proxyprotocol"] = "true" });
        await using (var client = await RawSmtpClient.ConnectAsync(edge.EndPoint, Encoding.ASCII.GetBytes("EHLO client.example.test\r\n")))
        {
            Assert.True(await client.IsClosedAsync());
        }
        await using var next = await RawSmtpClient.ConnectAsync(edge.EndPoint, Encoding.ASCII.GetBytes("PROXY UNKNOWN\r\n"));
        await next.ExpectAsync("220 ");
        await DeliverAsync(next);
        Assert.Equal(IPAddress.Loopback, Assert.Single(edge.Queue.Envelopes).Client.Address);
    }
}
