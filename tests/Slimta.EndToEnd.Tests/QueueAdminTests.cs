using System.Text.Json.Nodes;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// <c>slimta queue …</c> (the real executable) against memory, disk and redis queues: through the
/// control socket of a running server, and directly on the storage (disk once the server has
/// stopped, redis at any time; memory has no offline mode).
/// </summary>
public sealed class QueueAdminTests
{
    private static string Yaml(string dir, int port, int deadPort, string queue) => $$$"""
        process: {slimta: {control_socket: ctl.sock}}
        edge:
          inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
        queue:
          q: {{{queue}}}
        relay:
          dead: {type: static, host: 127.0.0.1, port: {{{deadPort}}}}
        """;

    private static string QueueYaml(string kind, string dir, int redisPort) => kind switch
    {
        "memory" => """{type: memory, relay: dead, retry: {delay: "300", maximum: 5}}""",
        "disk" => $$$"""{type: disk, relay: dead, envelope_dir: {{{dir}}}/spool/env, meta_dir: {{{dir}}}/spool/meta, create_dirs: true, retry: {delay: "300", maximum: 5}}""",
        _ => $$$"""{type: redis, host: 127.0.0.1, port: {{{redisPort}}}, prefix: "t{{{Guid.NewGuid():N}}}:", relay: dead, retry: {delay: "300", maximum: 5}}""",
    };

    private static string? Text(JsonObject o, string key) => (string?)o[key];

    private static int Attempts(JsonObject o) => (int)o["attempts"]!;

    private static JsonObject? Find(List<JsonObject> list, string id) => list.FirstOrDefault(m => Text(m, "id") == id);

    [Theory]
    [InlineData("memory")]
    [InlineData("disk")]
    [InlineData("redis")]
    public async Task QueueCommands_ThroughControlSocket_ListShowHoldFlushReleaseDeleteBounce(string kind)
    {
        await using var redis = kind == "redis" ? await RedisServer.StartAsync() : null;
        var dir = TestPaths.NewTempDir("slimta-admin");
        var conf = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        await using var server = await AdminServer.StartAsync(conf, Yaml(dir, port, FreePort.Next(), QueueYaml(kind, dir, redis?.Port ?? 0)));
        var ids = await AdminServer.SendAsync(port, 3);
        await server.WaitListAsync(l => l.Count == 3 && l.All(m => Attempts(m) == 1 && Text(m, "state") == "queued"), "three deferred messages");

        var (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "list");
        Assert.True(exit == 0, stderr);
        Assert.Contains("QUEUED AT", stdout);
        Assert.All(ids, id => Assert.Contains(id, stdout));
        Assert.Contains("-- 3 messages", stdout);

        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "show", ids[0]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("Subject: m 0", stdout);
        Assert.Contains("<m0@remote.test>", stdout);
        Assert.DoesNotContain("body 0", stdout);

        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "hold", ids[0]);
        Assert.True(exit == 0, stderr);
        Assert.Equal("held", Text(Find(await server.ListAsync(), ids[0])!, "state"));

        // flush: the two others are attempted now (again deferred); the held one is not.
        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "flush");
        Assert.True(exit == 0, stderr);
        Assert.Contains("2 messages due now", stdout);
        await server.WaitListAsync(l => Attempts(Find(l, ids[1])!) == 2 && Attempts(Find(l, ids[2])!) == 2 && l.All(m => Text(m, "state") != "running"), "flushed messages attempted");
        Assert.Equal(1, Attempts(Find(await server.ListAsync(), ids[0])!));

        (exit, _, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "flush", ids[0]);
        Assert.Equal(1, exit);
        Assert.Contains("held; release it", stderr);

        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "release", ids[0]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("released, due now", stdout);
        await server.WaitListAsync(l => Attempts(Find(l, ids[0])!) == 2 && Text(Find(l, ids[0])!, "state") == "queued", "released message attempted");

        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "delete", ids[1]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("deleted", stdout);

        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "--queue", "q", "bounce", ids[2]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("bounced", stdout);

        var final = await server.WaitListAsync(l => l.Count == 2, "the held-then-released message and the bounce");
        Assert.NotNull(Find(final, ids[0]));
        var bounce = Assert.Single(final, m => Text(m, "sender") == "");
        Assert.Equal("sender@admin.test", (string?)bounce["recipients"]![0]);

        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "list", "--json");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal("ok", Text(lines[^1], "type"));
        Assert.Equal(2, lines.Count(l => Text(l, "type") == "message"));

        (exit, _, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "delete", "0123456789abcdef0123456789abcdef");
        Assert.Equal(1, exit);
        Assert.Contains("no such message", stderr);

        // Released although not held: made due all the same, and the reply says so.
        (exit, stdout, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "release", ids[0]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("was not held; due now", stdout);
    }

    [Fact]
    public async Task QueueCommands_DiskOffline_RefusedWhileRunningThenWorkOnTheSpool()
    {
        var dir = TestPaths.NewTempDir("slimta-admin");
        var conf = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        List<string> ids;
        await using (var server = await AdminServer.StartAsync(conf, Yaml(dir, port, FreePort.Next(), QueueYaml("disk", dir, 0))))
        {
            ids = await AdminServer.SendAsync(port, 3);
            await server.WaitListAsync(l => l.Count == 3 && l.All(m => Attempts(m) == 1 && Text(m, "state") == "queued"), "three deferred messages");
            var (exit, _, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "list");
            Assert.Equal(1, exit);
            Assert.Contains("in use", stderr);
            Assert.Contains("control socket", stderr);
        }

        // No server: the command falls back to the spool (and says so).
        var (code, stdout, err) = await AdminServer.RunAsync("queue", "-c", conf, "list");
        Assert.True(code == 0, err);
        Assert.Contains("working on the storages directly", err);
        Assert.All(ids, id => Assert.Contains(id, stdout));

        foreach (var args in new string[][] { ["hold", ids[0]], ["show", ids[0]], ["flush"], ["delete", ids[1]], ["bounce", ids[2]] })
        {
            (code, _, err) = await AdminServer.RunAsync(["queue", "-c", conf, "--storage", .. args]);
            Assert.True(code == 0, string.Join(' ', args) + ": " + err);
        }
        (code, stdout, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "list", "--json");
        Assert.True(code == 0, err);
        var messages = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).Where(l => Text(l, "type") == "message").ToList();
        Assert.Equal(2, messages.Count);
        Assert.Equal("held", Text(Find(messages, ids[0])!, "state"));
        Assert.Single(messages, m => Text(m, "sender") == "");

        // The hold survives into the next server (it is stored), and release works there.
        await using (var server = await AdminServer.StartAsync(conf, await File.ReadAllTextAsync(conf)))
        {
            Assert.Equal(1, server.Server.Engines["q"].HeldCount);
            (code, _, err) = await AdminServer.RunAsync("queue", "-c", conf, "release", ids[0]);
            Assert.True(code == 0, err);
            await server.WaitListAsync(l => Find(l, ids[0]) is { } m && Attempts(m) == 2 && Text(m, "state") == "queued", "released after restart");
        }
        (code, _, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "release", ids[0]);
        Assert.True(code == 0, err);
    }

    [Fact]
    public async Task QueueCommands_RedisOffline_WorkBesideTheRunningServer()
    {
        await using var redis = await RedisServer.StartAsync();
        var dir = TestPaths.NewTempDir("slimta-admin");
        var conf = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        await using var server = await AdminServer.StartAsync(conf, Yaml(dir, port, FreePort.Next(), QueueYaml("redis", dir, redis.Port)));
        var ids = await AdminServer.SendAsync(port, 3);
        await server.WaitListAsync(l => l.Count == 3 && l.All(m => Attempts(m) == 1), "three deferred messages");

        var (code, stdout, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "list");
        Assert.True(code == 0, err);
        Assert.All(ids, id => Assert.Contains(id, stdout));
        (code, stdout, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "show", ids[0]);
        Assert.True(code == 0, err);
        Assert.Contains("Subject: m 0", stdout);
        (code, _, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "hold", ids[0]);
        Assert.True(code == 0, err);
        Assert.Equal("held", Text(Find(await server.ListAsync(), ids[0])!, "state"));

        (code, stdout, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "flush");
        Assert.True(code == 0, err);
        Assert.Contains("2 messages due now", stdout);
        // The running server (a worker of the shared queue) attempts them.
        await server.WaitListAsync(l => Attempts(Find(l, ids[1])!) == 2 && Attempts(Find(l, ids[2])!) == 2, "flushed messages attempted by the server");

        (code, _, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "release", ids[0]);
        Assert.True(code == 0, err);
        await server.WaitListAsync(l => Attempts(Find(l, ids[0])!) == 2, "released message attempted by the server");
        (code, _, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "delete", ids[1]);
        Assert.True(code == 0, err);
        (code, stdout, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "bounce", ids[2]);
        Assert.True(code == 0, err);
        Assert.Contains("bounced", stdout);
        var final = await server.WaitListAsync(l => l.Count == 2, "one message and its bounce");
        Assert.Single(final, m => Text(m, "sender") == "");
    }

    [Fact]
    public async Task QueueCommands_MemoryOffline_RefusedWithReason()
    {
        var dir = TestPaths.NewTempDir("slimta-admin");
        var conf = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(conf, Yaml(dir, FreePort.Next(), FreePort.Next(), QueueYaml("memory", dir, 0)));
        var (code, _, err) = await AdminServer.RunAsync("queue", "-c", conf, "list");
        Assert.Equal(1, code);
        Assert.Contains("no offline mode", err);
        (code, _, err) = await AdminServer.RunAsync("queue", "-c", conf, "--storage", "--queue", "q", "hold", "0123456789abcdef0123456789abcdef");
        Assert.Equal(1, code);
        Assert.Contains("memory queue", err);
    }

    [Fact]
    public async Task QueueCommand_BadUsage_Exits64()
    {
        var (code, _, err) = await AdminServer.RunAsync("queue", "hold");
        Assert.Equal(64, code);
        Assert.Contains("needs one queue id", err);
        (code, _, err) = await AdminServer.RunAsync("queue", "frobnicate");
        Assert.Equal(64, code);
        Assert.Contains("unknown queue command", err);
    }
}
