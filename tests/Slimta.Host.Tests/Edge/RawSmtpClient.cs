using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Slimta.Host.Tests.Edge;

/// <summary>
/// A raw SMTP client for protocol checks: sends exact bytes, reads whole replies, and can switch
/// to TLS (after STARTTLS, or at once for implicit TLS) trusting any certificate.
/// </summary>
internal sealed class RawSmtpClient : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];
    private Stream _stream;

    private RawSmtpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public bool IsSecure => _stream is SslStream;

    /// <summary>Connects, and sends <paramref name="preamble"/> first when given (a PROXY header).</summary>
    public static async Task<RawSmtpClient> ConnectAsync(EndPoint endPoint, byte[]? preamble = null)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint).WaitAsync(Patience);
        var client = new RawSmtpClient(socket);
        if (preamble is not null)
        {
            await client.SendAsync(preamble);
        }
        return client;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes).AsTask().WaitAsync(Patience);
        await _stream.FlushAsync().WaitAsync(Patience);
    }

    /// <summary>Handshakes as a client that trusts any certificate; pending plaintext must have been read.</summary>
    public async Task StartTlsAsync()
    {
        Assert.Empty(_pending);
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("localhost").WaitAsync(Patience);
        _stream = ssl;
    }

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
                n = await _stream.ReadAsync(buffer).AsTask().WaitAsync(Patience);
            }
            catch (IOException)
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

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
