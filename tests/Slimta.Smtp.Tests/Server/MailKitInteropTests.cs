using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MailKit.Net.Smtp;
using MimeKit;
using Slimta.Smtp.Server;

namespace Slimta.Smtp.Tests.Server;

/// <summary>The session served over a real socket to MailKit's SmtpClient (a real, widely used client).</summary>
public class MailKitInteropTests
{
    private static async Task<(RecordingHandler Handler, Task Server, int Port)> ServeOneAsync(SmtpServerOptions options)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var handler = new RecordingHandler();
        var server = Task.Run(async () =>
        {
            try
            {
                using var socket = await listener.AcceptSocketAsync();
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                var input = PipeReader.Create(stream);
                var output = PipeWriter.Create(stream);
                using var session = new SmtpServerSession(new Duplex(input, output), new SmtpSessionInfo(socket.RemoteEndPoint), options, handler, TimeProvider.System);
                await session.RunAsync(CancellationToken.None, CancellationToken.None);
                await output.CompleteAsync();
                socket.Shutdown(SocketShutdown.Both);
            }
            finally
            {
                listener.Stop();
            }
        });
        await Task.Yield();
        return (handler, server, ((IPEndPoint)listener.LocalEndpoint).Port);
    }

    [Fact]
    public async Task SendAsync_MailKitClient_MessageArrivesIntact()
    {
        var (handler, server, port) = await ServeOneAsync(new SmtpServerOptions { Hostname = "mx.test" });
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@client.test"));
        message.To.Add(MailboxAddress.Parse("bob@remote.test"));
        message.Cc.Add(MailboxAddress.Parse("carol@remote.test"));
        message.Subject = "interop";
        message.Body = new TextPart("plain") { Text = ".leading dot\r\ncafé ☃\r\n.\r\n" };

        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.EightBitMime));
            Assert.Equal(10 * 1024 * 1024, (int)client.MaxSize);
            var response = await client.SendAsync(message);
            Assert.Contains("Message accepted", response);
            await client.DisconnectAsync(quit: true);
        }
        await server.WaitAsync(TimeSpan.FromSeconds(10));

        var (tx, bytes) = Assert.Single(handler.Messages);
        Assert.Equal("alice@client.test", tx.Sender);
        Assert.Equal(["bob@remote.test", "carol@remote.test"], tx.Recipients);
        var received = MimeMessage.Load(new MemoryStream(bytes));
        Assert.Equal("interop", received.Subject);
        Assert.Equal(".leading dot\ncafé ☃\n.\n", Assert.IsType<TextPart>(received.Body).Text.ReplaceLineEndings("\n"));
        // On the wire every line ended in CRLF and the dot-stuffing MailKit added is gone.
        var text = Encoding.UTF8.GetString(bytes);
        Assert.DoesNotContain('\n', text.Replace("\r\n", ""));
        Assert.Contains("\r\n.leading dot\r\n", text);
    }

    [Fact]
    public async Task SendAsync_InternationalAddress_UsesSmtpUtf8()
    {
        var (handler, server, port) = await ServeOneAsync(new SmtpServerOptions { Hostname = "mx.test" });
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("jöran@client.test"));
        message.To.Add(MailboxAddress.Parse("ünïcode@remote.test"));
        message.Subject = "utf8";
        message.Body = new TextPart("plain") { Text = "hej" };
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.UTF8));
            await client.SendAsync(message);
            await client.DisconnectAsync(quit: true);
        }
        await server.WaitAsync(TimeSpan.FromSeconds(10));
        var (tx, _) = Assert.Single(handler.Messages);
        Assert.True(tx.SmtpUtf8);
        Assert.Equal("jöran@client.test", tx.Sender);
        Assert.Equal(["ünïcode@remote.test"], tx.Recipients);
    }

    [Fact]
    public async Task SendAsync_RecipientRefused_MailKitSeesTheCode()
    {
        var (handler, server, port) = await ServeOneAsync(new SmtpServerOptions { Hostname = "mx.test" });
        handler.Recipient = r => r.StartsWith("nobody", StringComparison.Ordinal) ? new Slimta.Abstractions.Relaying.Reply(550, "5.1.1", "no such user") : null;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("a@client.test"));
        message.To.Add(MailboxAddress.Parse("nobody@remote.test"));
        message.Body = new TextPart("plain") { Text = "x" };
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
            var ex = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message));
            Assert.Equal(SmtpStatusCode.MailboxUnavailable, ex.StatusCode);
            await client.DisconnectAsync(quit: true);
        }
        await server.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(handler.Messages);
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
