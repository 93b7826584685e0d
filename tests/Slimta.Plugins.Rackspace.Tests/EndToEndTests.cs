using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Slimta.Host.Configuration;
using Slimta.Host.Edge;
using Slimta.Host.Server;
using Slimta.Plugins.Rackspace.Tests.FakeRackspace;
using Slimta.Testing;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>
/// The whole server with the real plugin loader: an edge process (<c>--no-relay</c>) and a worker
/// (<c>--no-edge</c>) in-process, sharing one rackspace queue on the fake, delivering to smtp-sink.
/// </summary>
public sealed partial class EndToEndTests : IAsyncLifetime
{
    private FakeRackspaceServer _server = null!;
    private SmtpSink _sink = null!;
    private readonly string _name = RackspaceOptions.NewName("e2e");
    private readonly List<SlimtaServer> _processes = [];

    public async Task InitializeAsync()
    {
        _server = new FakeRackspaceServer();
        _sink = await SmtpSink.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        await _sink.DisposeAsync();
        await _server.DisposeAsync();
    }

    private string Config() => $$$"""
        process:
          slimta: {logging: {level: warning}}
        edge:
          inbound: {type: smtp, queue: shared, listener: {interface: 127.0.0.1, port: 0}}
        queue:
          shared:
            type: rackspace
            endoint: "{{{_server.IdentityUrl}}}"
            username: {{{FakeRackspaceServer.Username}}}
            api_key: "{{{FakeRackspaceServer.ApiKey}}}"
            container_name: {{{_name}}}
            queue_name: {{{_name}}}
            timeout: 5
            relay: sink
            retry: {delay: "60", maximum: 5}
        relay:
          sink: {type: static, host: 127.0.0.1, port: {{{_sink.Port}}}, ehlo_as: worker.test}
        """;

    private async Task<SlimtaServer> StartAsync(bool edge)
    {
        var dir = TestPaths.NewTempDir("slimta-rackspace-e2e");
        var path = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(path, Config());
        var server = SlimtaServer.Build(ConfigLoader.LoadFile(path), new SlimtaServerOptions
        {
            PluginDirectories = [TestPaths.PluginsDir],
            NoRelay = edge,
            NoEdge = !edge,
        });
        _processes.Add(server);
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    private static int PortOf(SlimtaServer server) => ((IPEndPoint)((SmtpEdge)server.Edges["inbound"]).BoundEndPoints[0]).Port;

    private static async Task SendAsync(int port, int from, int to)
    {
        await using var smtp = await SmtpClientLite.ConnectAsync(port);
        for (int n = from; n < to; n++)
        {
            var reply = await smtp.SendAsync("sender@client.test", "rcpt@remote.test", $"Subject: rackspace {n}\r\nX-Seq: {n}\r\n\r\nmessage {n}");
            Assert.StartsWith("250", reply);
        }
    }

    private Dictionary<int, int> Arrivals()
    {
        var counts = new Dictionary<int, int>();
        foreach (var m in _sink.Messages)
        {
            var match = SeqHeader().Match(Encoding.ASCII.GetString(m.Data));
            if (match.Success)
            {
                int n = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                counts[n] = counts.GetValueOrDefault(n) + 1;
            }
        }
        return counts;
    }

    private async Task WaitDeliveredAsync(int count)
    {
        await Wait.UntilAsync(() => Arrivals().Count >= count && _server.ObjectNames(_name)?.Count == 0, TimeSpan.FromSeconds(20), $"{count} deliveries");
        await Task.Delay(300); // a duplicate would show up now
        var arrivals = Arrivals();
        Assert.Equal(Enumerable.Range(0, count), arrivals.Keys.Order());
        Assert.All(arrivals, a => Assert.Equal(1, a.Value));
        Assert.Empty(_server.QueueMessages(_name));
    }

    [Fact]
    public async Task EdgeAndWorker_Messages_EachDeliveredOnceAndNothingLeft()
    {
        var edge = await StartAsync(edge: true);
        await StartAsync(edge: false);
        await SendAsync(PortOf(edge), 0, 20);
        await WaitDeliveredAsync(20);
    }

    [Fact]
    public async Task EdgeAndWorker_TokenRevokedMidRun_EachProcessReauthenticatesOnceNothingLost()
    {
        var edge = await StartAsync(edge: true);
        await StartAsync(edge: false);
        await SendAsync(PortOf(edge), 0, 5);
        await WaitDeliveredAsync(5);
        Assert.Equal(2, _server.Authentications); // one token per process, cached

        _server.ExpireAllTokens();
        await SendAsync(PortOf(edge), 5, 10);
        await WaitDeliveredAsync(10);
        Assert.Equal(4, _server.Authentications);
        Assert.Contains(_server.Requests, r => r.Status == 401);
    }

    [Fact]
    public async Task Edge_RackspaceDown_Answers451ThenAcceptsAfterRecovery()
    {
        var edge = await StartAsync(edge: true);
        await StartAsync(edge: false);
        _server.Stop();
        await using (var smtp = await SmtpClientLite.ConnectAsync(PortOf(edge)))
        {
            var reply = await smtp.SendAsync("sender@client.test", "rcpt@remote.test", "Subject: outage\r\nX-Seq: 99\r\n\r\nlater");
            Assert.StartsWith("451", reply);
        }
        _server.Start();
        await SendAsync(PortOf(edge), 0, 3);
        await WaitDeliveredAsync(3);
    }

    [GeneratedRegex(@"X-Seq: (\d+)")]
    private static partial Regex SeqHeader();
}
