using System.Text;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

public sealed class CustomQueueTests
{
    [Fact]
    public async Task Send_ExampleCustomQueueFactory_TagsAndRelaysTheMessage()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var server = await ServerHarness.StartAsync($$$"""
            process: {slimta: {}}
            edge:
              inbound: {type: smtp, queue: tagged, listener: {interface: 127.0.0.1, port: 0}}
            queue:
              tagged:
                type: custom
                factory: "CustomQueue:Slimta.Examples.CustomQueue.QueueFactory.Create"
                relay: sink
                tag: from-the-test
            relay:
              sink: {type: static, host: 127.0.0.1, port: {{{sink.Port}}}}
            """);
        await using (var smtp = await RawSmtp.ConnectAsync(server.PortOf()))
        {
            await smtp.ReplyAsync();
            await smtp.CommandAsync("EHLO client.test");
            await smtp.CommandAsync("MAIL FROM:<a@client.test>");
            await smtp.CommandAsync("RCPT TO:<b@remote.test>");
            await smtp.CommandAsync("DATA");
            // The custom queue relays while the client waits and passes the next hop's reply on.
            Assert.StartsWith("250 ", await smtp.CommandAsync("Subject: custom\r\n\r\nbody\r\n."));
        }
        var received = Assert.Single(await sink.WaitForMessagesAsync(1));
        Assert.StartsWith("X-Queue-Tag: from-the-test\r\nSubject: custom\r\n", Encoding.ASCII.GetString(received.Data));
    }
}
