using System.Globalization;
using System.Text.RegularExpressions;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>The Prometheus endpoint of <c>process.NAME.metrics</c>, scraped over HTTP while real mail flows to smtp-sink.</summary>
public sealed partial class MetricsEndpointTests
{
    private static string Config(int sinkPort, int metricsPort, string logging = "{level: none}") => $$$"""
        process:
          slimta:
            logging: {{{logging}}}
            metrics: {listener: {interface: 127.0.0.1, port: {{{metricsPort}}}}}
        edge:
          inbound:
            type: smtp
            queue: outbound
            listener: {interface: 127.0.0.1, port: 0}
        queue:
          outbound:
            type: memory
            relay: sink
        relay:
          sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}, ehlo_as: slimta.test}
        """;

    [Fact]
    public async Task Scrape_AfterNMessages_CountersHistogramAndDepthMatch()
    {
        const int n = 5;
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ObservedServer.StartAsync(Config(sink.Port, FreePort.Next()));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = server.Server.MetricsEndpoint!.Url;

        var before = await http.GetStringAsync(url);
        Assert.Equal(0, Value(before, "slimta_messages_accepted_total", "queue=\"outbound\""));

        for (int i = 0; i < n; i++)
        {
            await SendAsync(server.PortOf(), i);
        }
        await sink.WaitForMessagesAsync(n);

        // Delivery is counted when the attempt ends, just after the sink took the message.
        string text = before;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            text = await http.GetStringAsync(url);
            if (TryValue(text, "slimta_messages_delivered_total", "queue=\"outbound\"") == n
                && TryValue(text, "slimta_queue_depth", "queue=\"outbound\"") == 0)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Equal(n, Value(text, "slimta_messages_accepted_total", "queue=\"outbound\""));
        Assert.Equal(n, Value(text, "slimta_messages_delivered_total", "queue=\"outbound\""));
        Assert.Equal(0, Value(text, "slimta_messages_deferred_total", "queue=\"outbound\""));
        Assert.Equal(0, Value(text, "slimta_messages_bounced_total", "queue=\"outbound\""));
        Assert.Equal(n, Value(text, "slimta_delivery_duration_seconds_count", "queue=\"outbound\""));
        Assert.Equal(0, Value(text, "slimta_queue_depth", "queue=\"outbound\""));
        Assert.Equal(n, Value(text, "slimta_connections_total", "edge=\"inbound\""));
        Assert.Equal(0, Value(text, "slimta_connections_active", "edge=\"inbound\""));
        Assert.Contains("# TYPE slimta_delivery_duration_seconds histogram", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_RefusedRecipientAndDownNextHop_RejectionsAndConnectErrorsCounted()
    {
        int deadPort = FreePort.Next();
        var yaml = Config(deadPort, FreePort.Next(), "{format: json, target: slimta.log}")
            .Replace("listener: {interface: 127.0.0.1, port: 0}", "listener: {interface: 127.0.0.1, port: 0}\n    rules: {only_recipients: [\"@remote.test\"]}", StringComparison.Ordinal)
            .Replace("relay: sink", "relay: sink\n    retry: {delay: \"3600\", maximum: 3}", StringComparison.Ordinal);
        await using var server = await ObservedServer.StartAsync(yaml);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var url = server.Server.MetricsEndpoint!.Url;

        await using (var smtp = await RawSmtp.ConnectAsync(server.PortOf()))
        {
            await smtp.ReplyAsync();
            await smtp.CommandAsync("EHLO client.test");
            await smtp.CommandAsync("MAIL FROM:<a@client.test>");
            Assert.StartsWith("550 ", await smtp.CommandAsync("RCPT TO:<x@elsewhere.test>"), StringComparison.Ordinal);
            Assert.StartsWith("250 ", await smtp.CommandAsync("RCPT TO:<b@remote.test>"), StringComparison.Ordinal);
            await smtp.CommandAsync("DATA");
            Assert.StartsWith("250 ", await smtp.CommandAsync("Subject: down\r\n\r\nbody\r\n."), StringComparison.Ordinal);
            await smtp.CommandAsync("QUIT");
        }

        string text = string.Empty;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            text = await http.GetStringAsync(url);
            if (TryValue(text, "slimta_messages_deferred_total", "queue=\"outbound\"") == 1)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Equal(1, Value(text, "slimta_messages_deferred_total", "queue=\"outbound\""));
        Assert.Equal(1, Value(text, "slimta_relay_errors_total", "class=\"connect\""));
        Assert.Equal(1, Value(text, "slimta_smtp_rejections_total", "stage=\"rcpt\""));
        // Waiting for its retry in an hour.
        Assert.Equal(1, Value(text, "slimta_queue_depth", "queue=\"outbound\""));

        // The same refusals as log events.
        var events = (await server.WaitForLogAsync(l => l.Any(x => x.Contains("\"event\":\"deferred\"", StringComparison.Ordinal))))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty("event", out _)).ToList();
        var rejected = Assert.Single(events, e => e.GetProperty("event").GetString() == "rejected");
        Assert.Equal("inbound", rejected.GetProperty("edge").GetString());
        Assert.Equal("rcpt", rejected.GetProperty("stage").GetString());
        Assert.Equal("x@elsewhere.test", rejected.GetProperty("address").GetString());
        Assert.Equal("127.0.0.1", rejected.GetProperty("client").GetString());
        Assert.StartsWith("550 5.7.1", rejected.GetProperty("reply").GetString(), StringComparison.Ordinal);
        var deferred = Assert.Single(events, e => e.GetProperty("event").GetString() == "deferred");
        Assert.StartsWith("451 4.4.1", deferred.GetProperty("reply").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_LoopbackInterfaceAndPath_ServesThereAndNowhereElse()
    {
        int port = FreePort.Next();
        var yaml = Config(25, port).Replace("port: " + port + "}}", "port: " + port + "}, path: /stats}", StringComparison.Ordinal);
        await using var server = await ObservedServer.StartAsync(yaml);
        var url = server.Server.MetricsEndpoint!.Url;
        Assert.Equal($"http://127.0.0.1:{port}/stats", url.ToString());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Contains("slimta_queue_depth{queue=\"outbound\"} 0", await http.GetStringAsync(url), StringComparison.Ordinal);
        // Bound to the configured address only: not on IPv6 loopback, nor on another path.
        using (var probe = new System.Net.Sockets.TcpClient(System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync(System.Net.IPAddress.IPv6Loopback, port));
        }
        using var wrongPath = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
        Assert.False(wrongPath.IsSuccessStatusCode);
    }

    [Fact]
    public async Task Scrape_SessionOverMaxConnections_RefusedCountedAndLogged()
    {
        var yaml = Config(25, FreePort.Next(), "{format: json, target: slimta.log}")
            .Replace("listener: {interface: 127.0.0.1, port: 0}", "listener: {interface: 127.0.0.1, port: 0}\n    max_connections: 1", StringComparison.Ordinal);
        await using var server = await ObservedServer.StartAsync(yaml);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await using (var first = await RawSmtp.ConnectAsync(server.PortOf()))
        {
            Assert.StartsWith("220 ", await first.ReplyAsync(), StringComparison.Ordinal);
            await using var second = await RawSmtp.ConnectAsync(server.PortOf());
            Assert.StartsWith("421 4.7.0", await second.ReplyAsync(), StringComparison.Ordinal);
            var text = await http.GetStringAsync(server.Server.MetricsEndpoint!.Url);
            Assert.Equal(1, Value(text, "slimta_sessions_rejected_total", "reason=\"max_connections\""));
            Assert.Equal(2, Value(text, "slimta_connections_total", "edge=\"inbound\""));
        }
        var lines = await server.WaitForLogAsync(l => l.Any(x => x.Contains("\"event\":\"connection_refused\"", StringComparison.Ordinal)));
        var refused = System.Text.Json.JsonDocument.Parse(lines.First(x => x.Contains("\"event\":\"connection_refused\"", StringComparison.Ordinal))).RootElement;
        Assert.Equal("max_connections", refused.GetProperty("reason").GetString());
        Assert.Equal("inbound", refused.GetProperty("edge").GetString());
        Assert.StartsWith("421 4.7.0", refused.GetProperty("reply").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MetricsPortInUse_FailsWithIOExceptionNamingTheUrl()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var error = await Assert.ThrowsAsync<IOException>(() => ObservedServer.StartAsync(Config(25, port)));
        Assert.Contains($"127.0.0.1:{port}/metrics", error.Message, StringComparison.Ordinal);
    }

    private static async Task SendAsync(int port, int i)
    {
        await using var smtp = await RawSmtp.ConnectAsync(port);
        await smtp.ReplyAsync();
        await smtp.CommandAsync("EHLO client.test");
        Assert.StartsWith("250 ", await smtp.CommandAsync("MAIL FROM:<a@client.test>"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await smtp.CommandAsync("RCPT TO:<b@remote.test>"), StringComparison.Ordinal);
        await smtp.CommandAsync("DATA");
        Assert.StartsWith("250 ", await smtp.CommandAsync($"Subject: metrics {i}\r\n\r\nbody {i}\r\n."), StringComparison.Ordinal);
        await smtp.CommandAsync("QUIT");
    }

    /// <summary>The value of the sample <paramref name="name"/> whose labels contain <paramref name="label"/>; fails when absent.</summary>
    private static double Value(string exposition, string name, string label)
    {
        var value = TryValue(exposition, name, label);
        Assert.True(value is not null, $"no sample {name}{{{label}}} in:\n{exposition}");
        return value.Value;
    }

    private static double? TryValue(string exposition, string name, string label)
    {
        foreach (Match m in Sample().Matches(exposition))
        {
            if (m.Groups["name"].Value == name && m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal))
            {
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
