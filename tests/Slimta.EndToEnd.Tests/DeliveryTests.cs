using System.Text;
using MailKit.Net.Smtp;
using MimeKit;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>Client → edge → queue → static relay → Postfix's smtp-sink, all real.</summary>
public sealed class DeliveryTests
{
    private static string Config(int sinkPort, string queueType = "memory", string extra = "") => $$"""
        process:
          slimta: {}
        edge:
          inbound:
            type: smtp
            queue: outbound
            listener: {interface: 127.0.0.1, port: 0}
            max_size: 1048576
            rules:
              only_recipients: ["@remote.test"]
        queue:
          outbound:
            type: {{queueType}}
            relay: sink
        {{extra}}
        relay:
          sink:
            type: static
            host: 127.0.0.1
            port: {{sinkPort}}
            ehlo_as: slimta.test
        """;

    [Fact]
    public async Task Send_MailKitThroughEdgeAndMemoryQueue_ArrivesAtSmtpSink()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port));

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice", "alice@client.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@remote.test"));
        message.To.Add(new MailboxAddress("Carol", "carol@remote.test"));
        message.Subject = "end to end";
        message.MessageId = "e2e-1@client.test";
        message.Body = new TextPart("plain") { Text = "Hello from MailKit.\r\n.a line starting with a dot\r\n" };
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", server.PortOf(), MailKit.Security.SecureSocketOptions.None);
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Equal("alice@client.test", received.Sender);
        Assert.Equal(["bob@remote.test", "carol@remote.test"], received.Recipients);
        var parsed = MimeMessage.Load(new MemoryStream(received.Data));
        Assert.Equal("e2e-1@client.test", parsed.MessageId);
        Assert.Equal("end to end", parsed.Subject);
        Assert.Equal("Hello from MailKit.\r\n.a line starting with a dot\r\n", parsed.TextBody!.ReplaceLineEndings("\r\n"));
    }

    [Fact]
    public async Task Send_RawBytesWithDotsAnd8Bit_ArriveByteForByte()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port));
        var body = Encoding.UTF8.GetBytes("From: a@client.test\r\nTo: b@remote.test\r\nSubject: raw\r\n\r\ncafé ☃\r\n.\r\n..two dots\r\n.leading\r\nlast line\r\n");

        await using (var smtp = await RawSmtp.ConnectAsync(server.PortOf()))
        {
            Assert.StartsWith("220 ", await smtp.ReplyAsync());
            Assert.StartsWith("250 ", await smtp.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250 ", await smtp.CommandAsync("MAIL FROM:<a@client.test> BODY=8BITMIME"));
            Assert.StartsWith("250 ", await smtp.CommandAsync("RCPT TO:<b@remote.test>"));
            Assert.StartsWith("354 ", await smtp.CommandAsync("DATA"));
            // Dot-stuffed on the wire as RFC 5321 §4.5.2 requires.
            await smtp.SendAsync(Encoding.UTF8.GetBytes("From: a@client.test\r\nTo: b@remote.test\r\nSubject: raw\r\n\r\ncafé ☃\r\n..\r\n...two dots\r\n..leading\r\nlast line\r\n.\r\n"));
            Assert.Matches("^250 2\\.6\\.0 [0-9a-f]{32} ", await smtp.ReplyAsync());
            Assert.StartsWith("221 ", await smtp.CommandAsync("QUIT"));
        }

        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.Equal(body, received.Data);
    }

    [Fact]
    public async Task Send_ProxyQueueNextHopRefusesRecipient_ClientGetsThe550()
    {
        await using var nextHop = new RefusingNextHop("550 5.1.1 <b@remote.test>: no such user here");
        await using var server = await ServerHarness.StartAsync(Config(nextHop.Port, queueType: "proxy"));

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("a@client.test"));
        message.To.Add(MailboxAddress.Parse("b@remote.test"));
        message.Subject = "refused";
        message.Body = new TextPart("plain") { Text = "nobody wants this" };
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.PortOf(), MailKit.Security.SecureSocketOptions.None);
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message));
        Assert.Equal(550, (int)e.StatusCode);
        Assert.Contains("no such user here", e.Message);
    }

    [Fact]
    public async Task Send_NextHopDownThenUp_MessageIsRetriedAndDelivered()
    {
        // Nothing listens on the next hop's port at first: connection refused is transient, the
        // queue keeps the message and retries every second; the next hop then comes up.
        int port = FreePort.Next();
        await using var server = await ServerHarness.StartAsync(Config(port, extra: """
                retry: {delay: "1", maximum: 30}
            """));
        await using (var smtp = await RawSmtp.ConnectAsync(server.PortOf()))
        {
            await smtp.ReplyAsync();
            await smtp.CommandAsync("EHLO client.test");
            await smtp.CommandAsync("MAIL FROM:<a@client.test>");
            await smtp.CommandAsync("RCPT TO:<b@remote.test>");
            await smtp.CommandAsync("DATA");
            Assert.StartsWith("250 ", await smtp.CommandAsync("Subject: retried\r\n\r\nbody\r\n."));
        }
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await using var sink = await SmtpSink.StartOnPortAsync(port);
        var received = Assert.Single(await sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Contains("Subject: retried", Encoding.ASCII.GetString(received.Data));
    }

    [Fact]
    public async Task Send_RecipientOutsideAllowedDomains_RefusedWith550AndNothingRelayed()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync(Config(sink.Port));
        await using var smtp = await RawSmtp.ConnectAsync(server.PortOf());
        await smtp.ReplyAsync();
        await smtp.CommandAsync("EHLO client.test");
        await smtp.CommandAsync("MAIL FROM:<a@client.test>");
        Assert.StartsWith("550 5.7.1", await smtp.CommandAsync("RCPT TO:<victim@elsewhere.test>"));
        Assert.Matches("^(503|554) ", await smtp.CommandAsync("DATA"));
    }
}
