using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Envelopes;
using Slimta.Host.Configuration;
using Slimta.Host.Edge;
using Slimta.Host.Server;
using Slimta.Testing;
using static Slimta.Plugins.MailAuth.Tests.MailAuthTestKit;

namespace Slimta.Plugins.MailAuth.Tests;

/// <summary>
/// The whole server with the plugin loaded by the real plugin loader: SMTP in, <c>verify_auth</c>
/// on the queue, <c>dkim_sign</c> on the relay, Maildir out; dkimpy checks the delivered file.
/// </summary>
[Collection(MailAuthCollection.Name)]
public sealed class EndToEndTests(MailAuthFixture fixture)
{
    private string Config(string dir) => $$"""
        process:
          slimta: {fqdn: mx.slimta.test}
        edge:
          inbound:
            type: smtp
            queue: in
            listener: {interface: 127.0.0.1, port: 0}
        queue:
          in:
            type: memory
            relay: out
            policies:
              - {type: verify_auth, dns: {servers: ["{{fixture.Dns.Server}}"], timeout: 10 } }
        relay:
          out:
            type: maildir
            path: {{dir}}/mail
            policies:
              - type: dkim_sign
                domains:
                  example.test: {selector: ed1, key: {{fixture.Ed25519Key}}}
        """;

    [Fact]
    public async Task Send_ThroughServer_AuthenticationResultsAddedAndDeliveredCopySigned()
    {
        var dir = TestPaths.NewTempDir("slimta-mailauth-e2e");
        var path = Path.Combine(dir, "slimta.conf");
        File.WriteAllText(path, Config(dir));
        await using var server = SlimtaServer.Build(ConfigLoader.LoadFile(path), new SlimtaServerOptions
        {
            PluginDirectories = [TestPaths.PluginsDir],
            Loggers = NullLoggerFactory.Instance,
        });
        await server.StartAsync(CancellationToken.None);
        var port = ((IPEndPoint)((SmtpEdge)server.Edges["inbound"]).BoundEndPoints[0]).Port;

        var message = Message().Replace("\r\n.a line", "\r\n..a line", StringComparison.Ordinal);
        var replies = await SmtpAsync(port, "EHLO client.example.test", "MAIL FROM:<alice@example.test>", "RCPT TO:<bob@dest.test>", "DATA", message + ".", "QUIT");
        Assert.StartsWith("250 ", replies[5], StringComparison.Ordinal);

        var mailbox = Path.Combine(dir, "mail", "bob", "new");
        string[] files = [];
        for (int i = 0; i < 600 && files.Length == 0; i++)
        {
            files = Directory.Exists(mailbox) ? Directory.GetFiles(mailbox) : [];
            if (files.Length == 0)
            {
                await Task.Delay(100);
            }
        }
        var delivered = Encoding.UTF8.GetString(File.ReadAllBytes(Assert.Single(files)));
        Assert.Contains("Authentication-Results: mx.slimta.test;\r\n\tspf=pass smtp.mailfrom=alice@example.test;\r\n\tdkim=none;\r\n\tdmarc=pass (p=reject sp=quarantine dis=none) header.from=example.test\r\n", delivered);
        Assert.Contains("d=example.test; s=ed1;", delivered.Replace("\r\n\t", " "));
        Assert.EndsWith(Message()[Message().IndexOf("\r\n\r\n", StringComparison.Ordinal)..], delivered);
        var copy = new Envelope("alice@example.test", ["bob@dest.test"], RawMessage.FromString(delivered));
        var (ok, output) = await DkimpyAsync(fixture.Dns, copy);
        Assert.True(ok, "dkimpy verifies the delivered copy: " + output);
    }

    [Fact]
    public async Task Send_DmarcFailWithRejectConfigured_RefusedAtTheEdge()
    {
        var dir = TestPaths.NewTempDir("slimta-mailauth-e2e");
        var path = Path.Combine(dir, "slimta.conf");
        File.WriteAllText(path, $$"""
            process:
              slimta: {fqdn: mx.slimta.test}
            edge:
              inbound:
                type: smtp
                queue: in
                listener: {interface: 127.0.0.1, port: 0}
            queue:
              in:
                type: memory
                relay: out
                policies:
                  - {type: verify_auth, dmarc_reject: reject, dns: {servers: ["{{fixture.Dns.Server}}"], timeout: 10 } }
            relay:
              out:
                type: blackhole
            """);
        await using var server = SlimtaServer.Build(ConfigLoader.LoadFile(path), new SlimtaServerOptions
        {
            PluginDirectories = [TestPaths.PluginsDir],
            Loggers = NullLoggerFactory.Instance,
        });
        await server.StartAsync(CancellationToken.None);
        var port = ((IPEndPoint)((SmtpEdge)server.Edges["inbound"]).BoundEndPoints[0]).Port;

        var replies = await SmtpAsync(port, "EHLO client.example.test", "MAIL FROM:<alice@fail.test>", "RCPT TO:<bob@dest.test>", "DATA", Message("<alice@fail.test>") + ".", "QUIT");

        // The policy throws QueuePolicyRejectedException (550 5.7.1). A queue engine that maps it to
        // its reply gives the client that 550; an engine that does not refuses every policy
        // exception with 451 4.3.0. Either way the message is refused, never accepted.
        Assert.Equal("550 5.7.1 Email rejected per DMARC policy for fail.test", replies[5]);
    }

    private static async Task<List<string>> SmtpAsync(int port, params string[] commands)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.Latin1);
        async Task<string> ReplyAsync()
        {
            while (true)
            {
                var line = await reader.ReadLineAsync() ?? throw new EndOfStreamException();
                if (line.Length < 4 || line[3] != '-')
                {
                    return line;
                }
            }
        }
        var replies = new List<string> { await ReplyAsync() };
        foreach (var command in commands)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"));
            replies.Add(await ReplyAsync());
        }
        return replies;
    }
}
