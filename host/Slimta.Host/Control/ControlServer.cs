using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Slimta.Host.Server;

namespace Slimta.Host.Control;

/// <summary>
/// The control socket of a running server: a Unix domain stream socket, mode 0600 (owner only:
/// whoever can connect can delete mail), that <c>slimta queue …</c> talks to.
/// <para>
/// Protocol (docs/operations.md "Control socket"): the client sends one request, a JSON object on
/// one line (<see cref="ControlRequest"/>); the server answers with JSON lines — first
/// <c>{"type":"hello",…}</c>, then zero or more <c>total</c>, <c>message</c>, <c>progress</c>,
/// <c>note</c> lines, and last exactly one <c>ok</c> or <c>error</c> line — and closes the connection.
/// </para>
/// </summary>
public sealed class ControlServer : IAsyncDisposable
{
    /// <summary>The longest request line accepted.</summary>
    public const int MaxRequestLength = 64 * 1024;

    private readonly Socket _listener;
    private readonly QueueAdminService _admin;
    private readonly JsonObject _hello;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;
    private readonly string? _createdDirectory;

    private ControlServer(string path, string? createdDirectory, Socket listener, QueueAdminService admin, JsonObject hello, ILogger log)
    {
        SocketPath = path;
        _createdDirectory = createdDirectory;
        _listener = listener;
        _admin = admin;
        _hello = hello;
        _log = log;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The socket's path.</summary>
    public string SocketPath { get; }

    /// <summary>
    /// Binds <paramref name="path"/> (mode 0600; its directory is created 0700 when missing) and
    /// starts answering. A socket file left by a dead server is replaced; one a live server answers
    /// on is an <see cref="IOException"/>.
    /// </summary>
    public static ControlServer Start(string path, QueueAdminService admin, JsonObject hello, ILogger log)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the control socket needs a Unix system");
        }
        path = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(path)!;
        string? created = null;
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            created = dir;
        }
        if (File.Exists(path) || Directory.Exists(path))
        {
            if (Answers(path))
            {
                throw new IOException($"another server answers on the control socket {path}");
            }
            // Left by a process that died: nobody listens, so it is ours to replace.
            File.Delete(path);
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // The umask makes the socket 0600 from its creation: no window in which another
            // user could connect before a chmod.
            uint previous = Posix.Umask(0x3F); // 077
            try
            {
                listener.Bind(new UnixDomainSocketEndPoint(path));
            }
            finally
            {
                Posix.Umask(previous);
            }
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new ControlServer(path, created, listener, admin, hello, log);
    }

    /// <summary>Gives the socket to the user the server switches to (so it can still remove it, and its admins can connect).</summary>
    public void ChangeOwner(uint uid, uint gid)
    {
        // A directory made here (mode 0700) goes too, or the user could neither reach nor remove the socket.
        if (_createdDirectory is not null)
        {
            Posix.Chown(_createdDirectory, uid, gid);
        }
        Posix.Chown(SocketPath, uid, gid);
    }

    /// <summary>Stops answering, ends running requests and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections];
        }
        await Task.WhenAll(running).ConfigureAwait(false);
        try
        {
            File.Delete(SocketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("could not remove the control socket {Path}: {Message}", SocketPath, e.Message);
        }
        _stop.Dispose();
    }

    private static bool Answers(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                _log.LogWarning("control socket accept failed: {Message}", e.Message);
                continue;
            }
            var task = ServeAsync(client);
            lock (_connections)
            {
                _connections.Add(task);
                _connections.RemoveAll(t => t.IsCompleted);
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        await Task.Yield();
        using var _ = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        await using var output = new BufferedStream(stream, 64 * 1024);
        async ValueTask WriteAsync(JsonObject line)
        {
            var bytes = Encoding.UTF8.GetBytes(line.ToJsonString() + "\n");
            await output.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
            if (line["type"]?.GetValue<string>() is not "message")
            {
                // Progress and results are shown as they happen; listings are sent in bulk.
                await output.FlushAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        try
        {
            await WriteAsync(_hello).ConfigureAwait(false);
            ControlRequest request;
            try
            {
                var line = await ReadLineAsync(stream, _stop.Token).ConfigureAwait(false);
                request = ControlRequest.Parse(line ?? throw new FormatException("no request"));
            }
            catch (FormatException e)
            {
                await WriteAsync(ControlJson.Error("bad request: " + e.Message)).ConfigureAwait(false);
                return;
            }
            _log.LogInformation("control: {Command} queue={Queue} id={Id}", request.Command, request.Queue ?? "*", request.Id ?? "-");
            await _admin.ExecuteAsync(request, WriteAsync, _stop.Token).ConfigureAwait(false);
            await output.FlushAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the server is stopping: nothing more to say.
            _log.LogDebug("control connection ended: {Message}", e.Message);
        }
        catch (Exception e)
        {
            _log.LogError(e, "control request failed");
        }
    }

    /// <summary>Reads one line (up to <see cref="MaxRequestLength"/> bytes); null at end of stream.</summary>
    private static async Task<string?> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var one = new byte[1024];
        while (true)
        {
            int n = await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return buffer.Length == 0 ? null : Encoding.UTF8.GetString(buffer.ToArray());
            }
            int newline = Array.IndexOf(one, (byte)'\n', 0, n);
            buffer.Write(one, 0, newline < 0 ? n : newline);
            if (newline >= 0)
            {
                return Encoding.UTF8.GetString(buffer.ToArray()).TrimEnd('\r');
            }
            if (buffer.Length > MaxRequestLength)
            {
                throw new FormatException("request too long");
            }
        }
    }
}
