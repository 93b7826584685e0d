using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// A next hop that refuses every recipient with a fixed 5xx reply (smtp-sink can only refuse with
/// its own 500 text). It speaks just enough SMTP for a relay: greeting, EHLO, MAIL, RCPT, RSET, QUIT.
/// </summary>
internal sealed class RefusingNextHop : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _rcptReply;

    public RefusingNextHop(string rcptReply)
    {
        _rcptReply = rcptReply;
        _listener.Start();
        _loop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            async Task SayAsync(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), _stop.Token);
            try
            {
                await SayAsync("220 refusing.test ESMTP");
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    var verb = line.Split(' ')[0].ToUpperInvariant();
                    switch (verb)
                    {
                        case "EHLO": await SayAsync("250 refusing.test"); break;
                        case "RCPT": await SayAsync(_rcptReply); break;
                        case "QUIT": await SayAsync("221 2.0.0 bye"); return;
                        case "DATA": await SayAsync("554 5.5.1 no valid recipients"); break;
                        default: await SayAsync("250 2.0.0 ok"); break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
