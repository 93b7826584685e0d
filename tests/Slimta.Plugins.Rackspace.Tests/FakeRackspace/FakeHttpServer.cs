using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Slimta.Plugins.Rackspace.Tests.FakeRackspace;

/// <summary>
/// A minimal HTTP/1.1 server on a TcpListener (127.0.0.1, ephemeral port), optionally over TLS:
/// keep-alive, Content-Length bodies, HEAD without a body. Enough for HttpClient; no more.
/// <see cref="Stop"/> and <see cref="Start"/> simulate an outage (connections refused) on the same port.
/// </summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly Func<FakeHttpRequest, FakeHttpResponse> _handler;
    private readonly X509Certificate2? _certificate;
    private readonly Lock _lock = new();
    private readonly HashSet<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _accept;

    public FakeHttpServer(Func<FakeHttpRequest, FakeHttpResponse> handler, X509Certificate2? certificate = null)
    {
        _handler = handler;
        _certificate = certificate;
        Port = 0;
        Start();
    }

    public int Port { get; private set; }

    public string Scheme => _certificate is null ? "http" : "https";

    /// <summary>Listens (again) on the same port.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_listener is not null)
            {
                return;
            }
            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _listener = listener;
            _stop = new CancellationTokenSource();
            var token = _stop.Token;
            _accept = Task.Run(() => AcceptLoopAsync(listener, token));
        }
    }

    /// <summary>Stops listening and drops every open connection.</summary>
    public void Stop()
    {
        TcpClient[] open;
        lock (_lock)
        {
            if (_listener is null)
            {
                return;
            }
            _stop!.Cancel();
            _listener.Stop();
            _listener = null;
            open = [.. _connections];
            _connections.Clear();
        }
        foreach (var c in open)
        {
            c.Dispose();
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            lock (_lock)
            {
                _connections.Add(client);
            }
            _ = Task.Run(() => ServeAsync(client, cancellationToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        try
        {
            Stream stream = client.GetStream();
            if (_certificate is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, cancellationToken);
                stream = ssl;
            }
            var reader = new Reader(stream);
            while (!cancellationToken.IsCancellationRequested)
            {
                var request = await ReadRequestAsync(reader, cancellationToken);
                if (request is null)
                {
                    return;
                }
                FakeHttpResponse response;
                try
                {
                    response = _handler(request);
                }
                catch (Exception e)
                {
                    response = FakeHttpResponse.Text(500, e.ToString());
                }
                await WriteResponseAsync(stream, response, request.Method == "HEAD", cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The client went away, the server stopped, or the TLS handshake failed (a test of that).
        }
        finally
        {
            lock (_lock)
            {
                _connections.Remove(client);
            }
            client.Dispose();
        }
    }

    private static async Task<FakeHttpRequest?> ReadRequestAsync(Reader reader, CancellationToken cancellationToken)
    {
        var line = await reader.ReadLineAsync(cancellationToken);
        if (line is null)
        {
            return null;
        }
        var parts = line.Split(' ');
        if (parts.Length != 3)
        {
            throw new IOException("bad request line: " + line);
        }
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (await reader.ReadLineAsync(cancellationToken) is { Length: > 0 } header)
        {
            int colon = header.IndexOf(':', StringComparison.Ordinal);
            var name = header[..colon].Trim();
            var value = header[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var existing) ? existing + ", " + value : value;
        }
        if (headers.ContainsKey("Transfer-Encoding"))
        {
            throw new IOException("chunked request bodies are not supported by the fake");
        }
        int length = headers.TryGetValue("Content-Length", out var cl) ? int.Parse(cl, CultureInfo.InvariantCulture) : 0;
        var body = await reader.ReadExactAsync(length, cancellationToken);
        var target = parts[1];
        int q = target.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? target : target[..q];
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (q >= 0)
        {
            foreach (var pair in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
                query[key] = eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..]);
            }
        }
        return new FakeHttpRequest(parts[0], path, query, headers, body);
    }

    private static async Task WriteResponseAsync(Stream stream, FakeHttpResponse response, bool head, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\n");
        bool hasLength = false;
        foreach (var (name, value) in response.Headers)
        {
            sb.Append(name).Append(": ").Append(value).Append("\r\n");
            hasLength |= name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase);
        }
        if (!hasLength && response.Status != 204 && response.Status != 304)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n");
        }
        sb.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(sb.ToString()), cancellationToken);
        if (!head && response.Body.Length > 0)
        {
            await stream.WriteAsync(response.Body, cancellationToken);
        }
        await stream.FlushAsync(cancellationToken);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        411 => "Length Required",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };

    public async ValueTask DisposeAsync()
    {
        Stop();
        if (_accept is not null)
        {
            await _accept;
        }
    }

    /// <summary>Buffered reads of CRLF lines and exact byte counts.</summary>
    private sealed class Reader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16384];
        private int _start;
        private int _end;

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            _end += n;
            return n > 0;
        }

        public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                int i = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (i >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buffer, _start, i - _start).TrimEnd('\r');
                    _start = i + 1;
                    return line;
                }
                if (_end - _start == _buffer.Length)
                {
                    throw new IOException("header line too long");
                }
                if (!await FillAsync(cancellationToken))
                {
                    return null;
                }
            }
        }

        public async Task<byte[]> ReadExactAsync(int count, CancellationToken cancellationToken)
        {
            var result = new byte[count];
            int copied = 0;
            while (copied < count)
            {
                if (_end == _start && !await FillAsync(cancellationToken))
                {
                    throw new EndOfStreamException();
                }
                int n = Math.Min(count - copied, _end - _start);
                Buffer.BlockCopy(_buffer, _start, result, copied, n);
                _start += n;
                copied += n;
            }
            return result;
        }
    }
}
