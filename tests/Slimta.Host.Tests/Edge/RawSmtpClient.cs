using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Slimta.Host.Tests.Edge;

/// <summary>A raw TCP client for protocol checks: sends exact bytes and reads whole replies.</summary>
internal sealed class RawSmtpClient : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];

    private RawSmtpClient(Socket socket) => _socket = socket;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public static async Task<RawSmtpClient> ConnectAsync(EndPoint endPoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint).WaitAsync(Patience);
        return new RawSmtpClient(socket);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Patience);

    /// <summary>One reply (lines joined by \n), or null when the server closed the connection.</summary>
    public async Task<string?> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (await ReadLineAsync() is { } line)
        {
            lines.Add(line);
            if (line.Length < 4 || line[3] == ' ')
            {
                break;
            }
        }
        return lines.Count == 0 ? null : string.Join('\n', lines);
    }

    public async Task<string> ExpectAsync(string prefix)
    {
        var reply = await ReadReplyAsync();
        Assert.NotNull(reply);
        Assert.StartsWith(prefix, reply);
        return reply;
    }

    public async Task<bool> IsClosedAsync() => await ReadLineAsync() is null;

    private async Task<string?> ReadLineAsync()
    {
        var buffer = new byte[4096];
        while (true)
        {
            int lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = _pending.Take(lf).ToArray();
                _pending.RemoveRange(0, lf + 1);
                Assert.True(line.Length > 0 && line[^1] == (byte)'\r', "reply lines end with CRLF");
                return Encoding.ASCII.GetString(line, 0, line.Length - 1);
            }
            int n;
            try
            {
                n = await _socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Patience);
            }
            catch (SocketException)
            {
                n = 0;
            }
            if (n == 0)
            {
                Assert.Empty(_pending);
                return null;
            }
            _pending.AddRange(buffer.AsSpan(0, n).ToArray());
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
