using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>What <c>SlimtaServer.ReloadAsync</c> applies and what it reports as needing a restart.</summary>
public sealed class ReloadTests
{
    private static string Yaml(string dir, int sinkPort, string retry = "60", string edgeBanner = "hi", string spool = "spool") => $$$"""
        process: {slimta: {}}
        edge:
          inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: 0}, rules: {banner: "{{{edgeBanner}}}"}}
        queue:
          q: {type: disk, relay: out, envelope_dir: {{{dir}}}/{{{spool}}}/env, meta_dir: {{{dir}}}/{{{spool}}}/meta, create_dirs: true, retry: {delay: "{{{retry}}}", maximum: 3}}
        relay:
          out: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}}
        """;

    private static SlimtaConfig Load(string dir, string yaml)
    {
        var file = Path.Combine(dir, "next.conf");
        File.WriteAllText(file, yaml);
        return ConfigLoader.LoadFile(file);
    }

    [Fact]
    public async Task Reload_RelayAndRetryChanged_AppliedAndNewRelayUsed()
    {
        await using var sinkA = await SmtpSink.StartAsync();
        await using var sinkB = await SmtpSink.StartAsync();
        var dir = TestPaths.NewTempDir("slimta-reload");
        await using var h = await ServerHarness.StartAsync(Yaml(dir, sinkA.Port));
        var oldRelay = h.Server.Relays["out"];

        var report = await h.Server.ReloadAsync(Load(dir, Yaml(dir, sinkB.Port, retry: "120")), CancellationToken.None);
        Assert.Equal(["relay.out", "queue.q"], report.Applied);
        Assert.Empty(report.RestartNeeded);
        Assert.NotSame(oldRelay, h.Server.Relays["out"]);

        await AdminServer.SendAsync(h.PortOf(), 1);
        await sinkB.WaitForMessagesAsync(1);
        Assert.Empty(sinkA.Messages);

        var again = await h.Server.ReloadAsync(Load(dir, Yaml(dir, sinkB.Port, retry: "120")), CancellationToken.None);
        Assert.True(again.NoChange);
    }

    [Fact]
    public async Task Reload_EdgeAndStorageChanged_ReportedAsRestartNeededNotApplied()
    {
        var dir = TestPaths.NewTempDir("slimta-reload");
        await using var h = await ServerHarness.StartAsync(Yaml(dir, FreePort.Next()));
        int port = h.PortOf();
        var report = await h.Server.ReloadAsync(Load(dir, Yaml(dir, FreePort.Next(), edgeBanner: "changed", spool: "other")), CancellationToken.None);
        Assert.Contains(report.RestartNeeded, r => r.StartsWith("edge.inbound:", StringComparison.Ordinal));
        Assert.Contains(report.RestartNeeded, r => r.StartsWith("queue.q: the storage", StringComparison.Ordinal));
        Assert.Equal(["relay.out", "queue.q"], report.Applied);
        // The listener is the same one.
        Assert.Equal(port, h.PortOf());
        await using var smtp = await RawSmtp.ConnectAsync(port);
        Assert.StartsWith("220 hi", await smtp.ReplyAsync());
    }

    [Fact]
    public async Task Reload_InvalidConfig_ConfigExceptionNothingChanged()
    {
        var dir = TestPaths.NewTempDir("slimta-reload");
        await using var h = await ServerHarness.StartAsync(Yaml(dir, FreePort.Next()));
        var relay = h.Server.Relays["out"];
        var bad = Load(dir, Yaml(dir, FreePort.Next()).Replace("type: static", "type: nonesuch", StringComparison.Ordinal));
        var e = await Assert.ThrowsAsync<ConfigException>(() => h.Server.ReloadAsync(bad, CancellationToken.None));
        Assert.Contains("relay.out.type", e.Message);
        Assert.Same(relay, h.Server.Relays["out"]);
    }
}
