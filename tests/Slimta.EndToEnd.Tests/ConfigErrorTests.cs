using System.Net.Sockets;
using Slimta.Abstractions.Configuration;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>Each configuration error stops startup with the key path, before any port is opened.</summary>
public sealed class ConfigErrorTests
{
    private static string Config(int port, string queue, string relay) => $$"""
        process:
          slimta: {}
        edge:
          inbound:
            type: smtp
            queue: q
            listener: {interface: 127.0.0.1, port: {{port}}}
        queue:
          q:
        {{queue}}
        relay:
          r:
        {{relay}}
        """;

    public static TheoryData<string, string, string> Errors => new()
    {
        { "    type: nosuchstorage\n    relay: r", "    type: blackhole", "queue.q.type" },
        { "    type: memory\n    relay: r", "    type: static", "relay.r" },
        { "    type: memory\n    relay: r\n    retry: {delay: \"300*(x\", maximum: 3}", "    type: blackhole", "queue.q.retry.delay" },
        { "    type: memory\n    relay: r\n    policies:\n      - type: add_message_id_headr", "    type: blackhole", "queue.q.policies.0.type" },
        { "    type: custom\n    relay: r\n    factory: \"NoSuchAssembly:A.B.Create\"", "    type: blackhole", "queue.q.factory" },
        { "    type: custom\n    relay: r\n    factory: \"CustomQueue:Slimta.Examples.CustomQueue.QueueFactory.NoSuchMethod\"", "    type: blackhole", "queue.q.factory" },
        { "    type: custom\n    relay: r\n    factory: \"CustomQueue:Slimta.Examples.CustomQueue.TaggingQueue.EnqueueAsync\"", "    type: blackhole", "queue.q.factory" },
        { "    type: memory\n    relay: r\n    colour: blue", "    type: blackhole", "queue.q.colour" },
        { "    type: memory\n    relay: nosuchrelay", "    type: blackhole", "queue.q.relay" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Build_ConfigError_NamesKeyPathAndOpensNoPort(string queue, string relay, string keyPath)
    {
        int port = FreePort.Next();
        var dir = TestPaths.NewTempDir("slimta-config");
        var e = Assert.Throws<ConfigException>(() => ServerHarness.Build(Config(port, queue, relay), dir));
        Assert.StartsWith(keyPath, e.KeyPath);
        Assert.Contains(keyPath, e.Message);

        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", port));
    }
}
