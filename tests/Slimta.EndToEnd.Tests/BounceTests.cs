using MimeKit;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// A refused message bounces through <c>bounce_queue</c>: edge → outbound queue → a next hop
/// answering 550 → an RFC 3464 report queued on the bounces queue → Postfix's smtp-sink, where it
/// arrives from &lt;&gt; addressed to the original sender.
/// </summary>
public sealed class BounceTests
{
    private static string Config(int refusingPort, int sinkPort, string bounce = "") => $$"""
        process:
          slimta: {fqdn: mta.e2e.test}
        edge:
          inbound:
            type: smtp
            queue: outbound
            listener: {interface: 127.0.0.1, port: 0}
        queue:
          outbound:
            type: memory
            relay: refusing
            bounce_queue: bounces
        {{bounce}}
          bounces:
            type: memory
            relay: sink
        relay:
          refusing:
            type: static
            host: 127.0.0.1
            port: {{refusingPort}}
          sink:
            type: static
            host: 127.0.0.1
            port: {{sinkPort}}
        """;

    private static async Task SendAsync(int port, string sender, string recipient)
    {
        await using var smtp = await RawSmtp.ConnectAsync(port);
        await smtp.ReplyAsync();
        await smtp.CommandAsync("EHLO client.test");
        Assert.StartsWith("250 ", await smtp.CommandAsync($"MAIL FROM:<{sender}>"), StringComparison.Ordinal);
        Assert.StartsWith("250 ", await smtp.CommandAsync($"RCPT TO:<{recipient}>"), StringComparison.Ordinal);
        await smtp.CommandAsync("DATA");
        var from = sender.Length == 0 ? "MAILER-DAEMON@client.test" : sender;
        Assert.StartsWith("250 ", await smtp.CommandAsync(
            $"From: <{from}>\r\nTo: <{recipient}>\r\nSubject: will bounce\r\nMessage-Id: <bounce-me@client.test>\r\n\r\nnobody wants this\r\n."), StringComparison.Ordinal);
        await smtp.CommandAsync("QUIT");
    }

    [Fact]
    public async Task Send_NextHopRefuses550_BounceReachesSenderThroughBounceQueue()
    {
        await using var refusing = new RefusingNextHop("550 5.1.1 <b@remote.test>: no such user here");
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(refusing.Port, sink.Port, """
                bounce: {text: "Dear {sender}, {hostname} gave up.\n{recipients}"}
            """));

        await SendAsync(server.PortOf(), "alice@client.test", "b@remote.test");

        var received = Assert.Single(await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal(string.Empty, received.Sender);
        Assert.Equal(["alice@client.test"], received.Recipients);
        var bounce = MimeMessage.Load(new MemoryStream(received.Data));
        Assert.Equal("alice@client.test", Assert.Single(bounce.To.Mailboxes).Address);
        Assert.StartsWith("Dear alice@client.test, ", bounce.TextBody, StringComparison.Ordinal);
        var report = Assert.IsType<MultipartReport>(bounce.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var status = Assert.Single(bounce.BodyParts.OfType<MessageDeliveryStatus>());
        Assert.Equal("dns; mta.e2e.test", status.StatusGroups[0]["Reporting-MTA"]);
        Assert.NotNull(status.StatusGroups[0]["Arrival-Date"]);
        var rcpt = Assert.Single(status.StatusGroups.Skip(1));
        Assert.Equal("rfc822; b@remote.test", rcpt["Final-Recipient"]);
        Assert.Equal("failed", rcpt["Action"]);
        Assert.Equal("5.1.1", rcpt["Status"]);
        Assert.Equal("dns; 127.0.0.1", rcpt["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 <b@remote.test>: no such user here", rcpt["Diagnostic-Code"]);
        var headers = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("bounce-me@client.test", headers.Message!.MessageId);
        Assert.Equal("will bounce", headers.Message.Subject);
    }

    [Fact]
    public async Task Send_NullSenderRefused_NoBounce()
    {
        await using var refusing = new RefusingNextHop("550 5.1.1 <b@remote.test>: no such user here");
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(refusing.Port, sink.Port));

        await SendAsync(server.PortOf(), "", "b@remote.test");
        // A control message through the same server proves the bounce path would have had time to run.
        await SendAsync(server.PortOf(), "carol@client.test", "b@remote.test");

        var received = Assert.Single(await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal(["carol@client.test"], received.Recipients);
        await Task.Delay(500);
        Assert.Single(sink.Messages);
    }

    [Theory]
    [InlineData("    bounce: {include_message: everything}", "queue.outbound.bounce.include_message")]
    [InlineData("    bounce: {delay_notice: -5}", "queue.outbound.bounce.delay_notice")]
    [InlineData("    bounce: {txt: hello}", "queue.outbound.bounce.txt")]
    public void Build_BadBounceBlock_ConfigErrorNamesKeyPath(string bounce, string path)
    {
        var dir = TestPaths.NewTempDir("slimta-e2e");
        try
        {
            var error = Assert.Throws<Slimta.Abstractions.Configuration.ConfigException>(() => ServerHarness.Build(Config(25, 26, bounce), dir));
            Assert.Equal(path, error.KeyPath);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Build_BounceBlockOnProxyQueue_ConfigError()
    {
        var dir = TestPaths.NewTempDir("slimta-e2e");
        try
        {
            var yaml = Config(25, 26, "    bounce: {text: hi}").Replace("    type: memory\n    relay: refusing", "    type: proxy\n    relay: refusing", StringComparison.Ordinal);
            var error = Assert.Throws<Slimta.Abstractions.Configuration.ConfigException>(() => ServerHarness.Build(yaml, dir));
            Assert.Equal("queue.outbound.bounce", error.KeyPath);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
