using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MimeKit;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// <c>process.NAME.logging</c> end to end: real messages through the in-process server to
/// Postfix's smtp-sink (one accepting, one deferring every RCPT, one refusing every RCPT), and the
/// JSON or text lines the server wrote to its log file.
/// </summary>
public sealed class StructuredLogTests
{
    private static string Config(string logging, int okPort, int deferPort, int refusePort) => $$$"""
        process:
          slimta:
            fqdn: mta.e2e.test
            logging: {{{logging}}}
        edge:
          inbound: {type: smtp, queue: outbound, listener: {interface: 127.0.0.1, port: 0}}
          slow: {type: smtp, queue: deferring, listener: {interface: 127.0.0.1, port: 0}}
          refused: {type: smtp, queue: refusing, listener: {interface: 127.0.0.1, port: 0}}
        queue:
          outbound: {type: memory, relay: ok}
          deferring:
            type: memory
            relay: deferring
            retry: {delay: "3600", maximum: 5}
          refusing: {type: memory, relay: refusing, bounce_queue: outbound}
        relay:
          ok: {type: static, host: 127.0.0.1, port: {{{okPort}}}, ehlo_as: slimta.test}
          deferring: {type: static, host: 127.0.0.1, port: {{{deferPort}}}, ehlo_as: slimta.test}
          refusing: {type: static, host: 127.0.0.1, port: {{{refusePort}}}, ehlo_as: slimta.test}
        """;

    [Fact]
    public async Task JsonLog_DeliveredDeferredBounced_EachEventLineCarriesItsFields()
    {
        await using var ok = await SmtpSink.StartAsync();
        await using var deferring = await SmtpSink.StartAsync("-r", "RCPT");
        await using var refusing = await SmtpSink.StartAsync("-f", "RCPT");
        await using var server = await ObservedServer.StartAsync(Config("{format: json, target: slimta.log}", ok.Port, deferring.Port, refusing.Port));
        Assert.Equal(Path.Combine(server.Directory, "slimta.log"), server.LogPath);

        var delivered = await SendAsync(server.PortOf("inbound"), "alice@client.test", "bob@remote.test");
        var deferred = await SendAsync(server.PortOf("slow"), "alice@client.test", "carol@remote.test");
        var bounced = await SendAsync(server.PortOf("refused"), "alice@client.test", "dave@remote.test");

        var lines = await server.WaitForLogAsync(l => Events(l).Any(e => Is(e, "bounced", "refusing", bounced))
            && Events(l).Any(e => Is(e, "deferred", "deferring", deferred))
            && Events(l).Any(e => Is(e, "delivered", "outbound", delivered)));
        var events = Events(lines).ToList();

        // Every line is one JSON object with the envelope fields.
        Assert.All(lines, line =>
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc.RootElement.GetProperty("time").GetString());
            Assert.Contains(doc.RootElement.GetProperty("level").GetString(), new[] { "trace", "debug", "info", "warn", "error", "crit" });
            Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("category").GetString()));
            Assert.True(doc.RootElement.TryGetProperty("message", out _));
        });

        var accepted = Assert.Single(events, e => Is(e, "accepted", "outbound", delivered));
        Assert.Equal("alice@client.test", accepted.GetProperty("sender").GetString());
        Assert.Equal(1, accepted.GetProperty("recipients").GetInt32());
        Assert.True(accepted.GetProperty("size").GetInt32() > 0);
        Assert.Equal("127.0.0.1", accepted.GetProperty("client").GetString());

        var attempt = Assert.Single(events, e => Is(e, "attempt", "outbound", delivered));
        Assert.Equal(1, attempt.GetProperty("attempt").GetInt32());

        var ok1 = Assert.Single(events, e => Is(e, "delivered", "outbound", delivered));
        Assert.Equal("bob@remote.test", ok1.GetProperty("recipient").GetString());
        Assert.StartsWith("127.0.0.1:", ok1.GetProperty("relay").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("250 ", ok1.GetProperty("reply").GetString(), StringComparison.Ordinal);
        Assert.True(ok1.GetProperty("delay_ms").GetInt64() >= 0);

        var later = Assert.Single(events, e => Is(e, "deferred", "deferring", deferred));
        Assert.Equal("carol@remote.test", later.GetProperty("recipient").GetString());
        Assert.StartsWith("4", later.GetProperty("reply").GetString(), StringComparison.Ordinal);
        Assert.True(DateTimeOffset.Parse(later.GetProperty("next").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Equal(1, later.GetProperty("attempt").GetInt32());

        var failed = Assert.Single(events, e => Is(e, "failed", "refusing", bounced));
        Assert.Equal("dave@remote.test", failed.GetProperty("recipient").GetString());
        Assert.StartsWith("5", failed.GetProperty("reply").GetString(), StringComparison.Ordinal);
        var bounce = Assert.Single(events, e => Is(e, "bounced", "refusing", bounced));
        Assert.Equal("alice@client.test", bounce.GetProperty("sender").GetString());
        Assert.Equal(1, bounce.GetProperty("recipients").GetInt32());
        var bounceId = bounce.GetProperty("bounce_id").GetString();
        Assert.Matches("^[0-9a-f]{32}$", bounceId);
        // The bounce itself goes through the outbound queue to the sender.
        await server.WaitForLogAsync(l => Events(l).Any(e => Is(e, "delivered", "outbound", bounceId)));

        var opened = events.Where(e => e.GetProperty("event").GetString() == "connection_opened").ToList();
        Assert.Equal(3, opened.Count);
        Assert.All(opened, e => Assert.Equal("127.0.0.1", e.GetProperty("client").GetString()));
        Assert.Contains(opened, e => e.GetProperty("edge").GetString() == "slow");
        var closed = events.First(e => e.GetProperty("event").GetString() == "connection_closed");
        Assert.False(closed.GetProperty("tls").GetBoolean());
        Assert.True(closed.GetProperty("duration_ms").GetInt64() >= 0);
    }

    [Fact]
    public async Task TextLog_Delivered_OneKeyValueLinePerEvent()
    {
        await using var ok = await SmtpSink.StartAsync();
        await using var server = await ObservedServer.StartAsync(Config("{format: text, level: info, target: text.log}", ok.Port, ok.Port, ok.Port));
        var id = await SendAsync(server.PortOf("inbound"), "alice@client.test", "bob@remote.test");

        var lines = await server.WaitForLogAsync(l => l.Any(x => x.Contains(" delivered ", StringComparison.Ordinal)));
        var line = Assert.Single(lines, x => x.Contains(" delivered ", StringComparison.Ordinal));
        Assert.Matches(
            $@"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z info delivered queue=outbound id={id} recipient=bob@remote.test relay=127\.0\.0\.1:\d+ reply=""250 [^""]*"" attempt=1 delay_ms=\d+$",
            line);
        Assert.Single(lines, x => Regex.IsMatch(x, $@" info accepted queue=outbound id={id} sender=alice@client\.test recipients=1 size=\d+ client=127\.0\.0\.1$"));
        Assert.Contains(lines, x => Regex.IsMatch(x, @" info connection_opened edge=inbound client=127\.0\.0\.1 tls=false$"));
        // Lines of plain (unnamed) messages keep the category and the rendered text.
        Assert.Contains(lines, x => x.Contains(" info slimta: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Log_SessionWithAuthAndBody_ContainsNeitherPasswordNorBody()
    {
        const string password = "Pw-9d1c s3cret";
        const string bodyMarker = "BODY-MARKER-4b7e2f";
        await using var sink = await SmtpSink.StartAsync();
        var yaml = $$$"""
            process:
              slimta:
                logging: {format: json, level: trace, target: trace.log}
            edge:
              inbound:
                type: smtp
                queue: outbound
                listener: {interface: 127.0.0.1, port: 0}
                tls: {{{TestCertificates.TlsYaml}}}
                rules:
                  lookup_credentials:
                    type: config
                    map: {alice: '{{{TlsConformanceTests.AliceHash}}}'}
            queue:
              outbound: {type: memory, relay: sink}
            relay:
              sink: {type: static, host: 127.0.0.1, port: {{{sink.Port}}}, ehlo_as: slimta.test}
            """;
        await using var server = await ObservedServer.StartAsync(yaml);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@client.test"));
        message.To.Add(MailboxAddress.Parse("bob@remote.test"));
        message.Subject = "subject line";
        message.Body = new TextPart("plain") { Text = $"{bodyMarker}\r\n" };
        using (var client = new SmtpClient())
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync("127.0.0.1", server.PortOf(), MailKit.Security.SecureSocketOptions.StartTls);
            // A wrong password first (logged as a failure, without it), then the right one.
            await Assert.ThrowsAsync<MailKit.Security.AuthenticationException>(() => client.AuthenticateAsync("alice", password));
            await client.AuthenticateAsync("alice", "s3cret pass");
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }
        await sink.WaitForMessagesAsync(1);
        await server.WaitForLogAsync(l => Events(l).Any(e => e.GetProperty("event").GetString() == "delivered"));
        await server.StopAsync();

        var log = await File.ReadAllTextAsync(server.LogPath!);
        Assert.Contains("\"event\":\"connection_closed\"", log, StringComparison.Ordinal);
        Assert.Contains("\"tls\":true", log, StringComparison.Ordinal);
        foreach (var secret in new[]
        {
            password, "s3cret pass", "Pw-9d1c",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0alice\0{password}")),
            Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0s3cret pass")),
            Convert.ToBase64String(Encoding.UTF8.GetBytes(password)),
            Convert.ToBase64String(Encoding.UTF8.GetBytes("s3cret pass")),
            bodyMarker, "subject line",
        })
        {
            Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task JsonLog_DamagedSpoolFileAtStartup_QuarantinedEventWithItsFields()
    {
        const string id = "0123456789abcdef0123456789abcdef";
        var yaml = """
            process:
              slimta:
                logging: {format: json, target: slimta.log}
            queue:
              spool:
                type: disk
                relay: discard
                envelope_dir: spool/env
                meta_dir: spool/meta
                create_dirs: true
            relay:
              discard: {type: blackhole}
            """;
        await using var server = await ObservedServer.StartAsync(yaml, dir =>
        {
            Directory.CreateDirectory(Path.Combine(dir, "spool", "env"));
            Directory.CreateDirectory(Path.Combine(dir, "spool", "meta"));
            File.WriteAllText(Path.Combine(dir, "spool", "env", id + ".env"), "not a spool file");
        });
        var lines = await server.WaitForLogAsync(l => Events(l).Any(e => e.GetProperty("event").GetString() == "quarantined"));
        var quarantined = Events(lines).First(e => e.GetProperty("event").GetString() == "quarantined");
        Assert.Equal("error", quarantined.GetProperty("level").GetString());
        Assert.Equal("spool", quarantined.GetProperty("queue").GetString());
        Assert.Equal(Path.Combine(server.Directory, "spool", "env", id + ".env"), quarantined.GetProperty("file").GetString());
        Assert.StartsWith(Path.Combine(server.Directory, "spool", "env", "quarantine"), quarantined.GetProperty("target").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(quarantined.GetProperty("reason").GetString()));
    }

    /// <summary>Sends one message and returns its queue id (from the 250 reply).</summary>
    private static async Task<string> SendAsync(int port, string sender, string recipient)
    {
        await using var smtp = await RawSmtp.ConnectAsync(port);
        await smtp.ReplyAsync();
        await smtp.CommandAsync("EHLO client.test");
        Assert.StartsWith("250 ", await smtp.CommandAsync($"MAIL FROM:<{sender}>"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await smtp.CommandAsync($"RCPT TO:<{recipient}>"), StringComparison.Ordinal);
        await smtp.CommandAsync("DATA");
        var reply = await smtp.CommandAsync($"From: <{sender}>\r\nTo: <{recipient}>\r\nSubject: log test\r\n\r\nbody\r\n.");
        await smtp.CommandAsync("QUIT");
        var match = Regex.Match(reply, "^250 2\\.6\\.0 ([0-9a-f]{32}) ");
        Assert.True(match.Success, reply);
        return match.Groups[1].Value;
    }

    private static IEnumerable<JsonElement> Events(IReadOnlyList<string> lines)
    {
        foreach (var line in lines)
        {
            var root = JsonDocument.Parse(line).RootElement;
            if (root.TryGetProperty("event", out _))
            {
                yield return root;
            }
        }
    }

    private static bool Is(JsonElement e, string name, string queue, string? id) =>
        e.GetProperty("event").GetString() == name
        && (!e.TryGetProperty("queue", out var q) || q.GetString() == queue || queue == "-")
        && (id is null || (e.TryGetProperty("id", out var i) && i.GetString() == id));
}
