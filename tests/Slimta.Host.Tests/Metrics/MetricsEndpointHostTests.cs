using System.Net;
using System.Net.Sockets;
using Slimta.Host.Configuration;
using Slimta.Host.Metrics;

namespace Slimta.Host.Tests.Metrics;

/// <summary>The scrape endpoint answers whatever name the scraper used for the address it listens on.</summary>
public sealed class MetricsEndpointHostTests
{
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    [InlineData("mail1.example.com")]
    public async Task Get_AnyHostHeader_ServesTheExposition(string host)
    {
        int port = FreePort();
        using var metrics = new SlimtaMetrics();
        await using var endpoint = new MetricsEndpoint(metrics, new MetricsConfig("127.0.0.1", port, "/metrics"));
        endpoint.Start();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.Url);
        request.Headers.Host = $"{host}:{port}";
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Contains("# TYPE slimta_connections_total counter", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_OtherPathOrMethod_Get404And405()
    {
        int port = FreePort();
        using var metrics = new SlimtaMetrics();
        await using var endpoint = new MetricsEndpoint(metrics, new MetricsConfig("127.0.0.1", port, "/metrics"));
        endpoint.Start();
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/other"))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync(endpoint.Url, new StringContent("x"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics?x=1"))).StatusCode);
    }
}
