using System.Text;
using System.Text.RegularExpressions;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Queueing;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>relay.NAME.policies: run before every attempt, seen by the next hop, never stored.</summary>
public sealed partial class RelayPolicyTests
{
    private static string Config(int nextHopPort, string queue) => $$"""
        process:
          slimta: {fqdn: mta.e2e.test}
        edge:
          inbound:
            type: smtp
            queue: outbound
            listener: {interface: 127.0.0.1, port: 0}
        queue:
          outbound:
        {{queue}}
        relay:
          sink:
            type: static
            host: 127.0.0.1
            port: {{nextHopPort}}
            ehlo_as: slimta.test
            policies:
              - {type: add_header, name: X-Relayed-By, value: "{fqdn} id={id}"}
        """;

    private static async Task<string> SendAsync(int port, string expectReply = "250 ")
    {
        await using var smtp = await RawSmtp.ConnectAsync(port);
        await smtp.ReplyAsync();
        await smtp.CommandAsync("EHLO client.test");
        await smtp.CommandAsync("MAIL FROM:<a@client.test>");
        await smtp.CommandAsync("RCPT TO:<b@remote.test>");
        await smtp.CommandAsync("DATA");
        var reply = await smtp.CommandAsync("From: a@client.test\r\nSubject: relay policy\r\n\r\nbody\r\n.");
        Assert.StartsWith(expectReply, reply, StringComparison.Ordinal);
        await smtp.CommandAsync("QUIT");
        return reply;
    }

    [Fact]
    public async Task Send_RelayWithAddHeaderPolicy_NextHopSeesHeaderOnceStoredMessageNever()
    {
        // The next hop is down at first, so the message waits in the queue where we can look at it.
        int port = FreePort.Next();
        await using var server = await ServerHarness.StartAsync(Config(port, """
                type: memory
                relay: sink
                retry: {delay: "1", maximum: 30}
            """));
        var reply = await SendAsync(server.PortOf());
        var id = QueueIdPattern().Match(reply).Value;
        Assert.NotEmpty(id);

        var engine = Assert.IsType<QueueEngine>(server.Server.Queues["outbound"]);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await engine.Storage.GetAsync(id, CancellationToken.None))?.Attempts is null or 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        var stored = await engine.Storage.GetAsync(id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.True(stored.Attempts >= 1);
        Assert.False(stored.Envelope.Message.HasHeader("X-Relayed-By"));

        await using var sink = await SmtpSink.StartOnPortAsync(port);
        var received = Assert.Single(await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        var text = Encoding.ASCII.GetString(received.Data);
        Assert.Single(Regex.Matches(text, "^X-Relayed-By: ", RegexOptions.Multiline));
        Assert.Contains($"\r\nX-Relayed-By: mta.e2e.test id={id}\r\n\r\nbody\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ProxyQueueThroughRelayWithPolicy_NextHopSeesHeader()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port, """
                type: proxy
                relay: sink
            """));
        await SendAsync(server.PortOf());

        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Matches("\r\nX-Relayed-By: mta.e2e.test id=[0-9a-f]+\r\n\r\nbody\r\n", Encoding.ASCII.GetString(received.Data));
    }

    [Fact]
    public async Task Send_RecipientSplitQueuePolicy_StoredAsThreeEnvelopesEachRelayedWithItsOwnId()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port, """
                type: memory
                relay: sink
                policies:
                  - {type: recipient_split}
            """));
        await using (var smtp = await RawSmtp.ConnectAsync(server.PortOf()))
        {
            await smtp.ReplyAsync();
            await smtp.CommandAsync("EHLO client.test");
            await smtp.CommandAsync("MAIL FROM:<a@client.test>");
            foreach (var r in new[] { "one@remote.test", "two@remote.test", "three@other.test" })
            {
                Assert.StartsWith("250 ", await smtp.CommandAsync($"RCPT TO:<{r}>"), StringComparison.Ordinal);
            }
            await smtp.CommandAsync("DATA");
            Assert.StartsWith("250 ", await smtp.CommandAsync("Subject: split\r\n\r\nbody\r\n."), StringComparison.Ordinal);
        }

        var received = await sink.WaitForMessagesAsync(3);
        Assert.Equal(3, received.Count);
        Assert.Equal(["one@remote.test", "three@other.test", "two@remote.test"], received.Select(m => Assert.Single(m.Recipients)).Order());
        var ids = received.Select(m => Regex.Match(Encoding.ASCII.GetString(m.Data), "X-Relayed-By: mta.e2e.test id=([0-9a-f]{32})").Groups[1].Value).ToList();
        Assert.Equal(3, ids.Where(i => i.Length == 32).Distinct().Count());
    }

    [Fact]
    public void Build_UnknownRelayPolicyType_ConfigErrorListsKnownOnes()
    {
        var dir = TestPaths.NewTempDir("slimta-e2e");
        try
        {
            var yaml = Config(25, "    type: memory\n    relay: sink").Replace("type: add_header", "type: add_heder", StringComparison.Ordinal);
            var error = Assert.Throws<ConfigException>(() => ServerHarness.Build(yaml, dir));
            Assert.Equal("relay.sink.policies.0.type", error.KeyPath);
            Assert.Contains("add_header", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [GeneratedRegex("[0-9a-f]{32}")]
    private static partial Regex QueueIdPattern();
}
