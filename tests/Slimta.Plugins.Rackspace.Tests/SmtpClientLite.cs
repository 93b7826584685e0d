using System.Net.Sockets;
using System.Text;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>A few SMTP commands over a raw socket, enough to hand messages to an edge and read its replies.</summary>
internal sealed class SmtpClientLite : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly StreamReader _reader;
    private readonly Stream _stream;

    private SmtpClientLite(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    public static async Task<SmtpClientLite> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new SmtpClientLite(tcp);
        Assert.StartsWith("220", await client.ReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        return client;
    }

    /// <summary>The last line of the (possibly multi-line) reply.</summary>
    public async Task<string> ReplyAsync()
    {
        while (true)
        {
            var line = await _reader.ReadLineAsync() ?? throw new EndOfStreamException("connection closed");
            if (line.Length < 4 || line[3] != '-')
            {
                return line;
            }
        }
    }

    public async Task<string> CommandAsync(string command)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        return await ReplyAsync();
    }

    /// <summary>One transaction; returns the reply to the end of DATA.</summary>
    public async Task<string> SendAsync(string sender, string recipient, string body)
    {
        Assert.StartsWith("250", await CommandAsync($"MAIL FROM:<{sender}>"));
        Assert.StartsWith("250", await CommandAsync($"RCPT TO:<{recipient}>"));
        Assert.StartsWith("354", await CommandAsync("DATA"));
        return await CommandAsync(body + "\r\n.");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CommandAsync("QUIT");
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or SocketException)
        {
            // Already closed.
        }
        _tcp.Dispose();
    }
}
