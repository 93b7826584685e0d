using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;

namespace Slimta.Host.Control;

/// <summary>The client side of the control socket (<c>slimta queue …</c>).</summary>
public sealed class ControlClient : IAsyncDisposable
{
    private readonly Socket _socket;

    private ControlClient(Socket socket) => _socket = socket;

    /// <summary>Connects; null when nothing answers at <paramref name="path"/> (no file, or no server behind it).</summary>
    public static async Task<ControlClient?> TryConnectAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new ControlClient(socket);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            socket.Dispose();
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> and yields every response line, the <c>hello</c> line first.</summary>
    public async IAsyncEnumerable<JsonObject> SendAsync(ControlRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(_socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToJson() + "\n"), cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            yield return JsonNode.Parse(line) as JsonObject ?? throw new IOException("the server sent a line that is not a JSON object");
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
