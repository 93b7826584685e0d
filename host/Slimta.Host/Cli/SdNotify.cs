using System.Net.Sockets;
using System.Text;

namespace Slimta.Host.Cli;

/// <summary>
/// The sd_notify protocol (systemd.service <c>Type=notify</c>, and how <c>-d</c> learns that the
/// background process is ready): datagrams such as <c>READY=1</c> to the Unix socket named by
/// <c>NOTIFY_SOCKET</c> (a leading <c>@</c> is the abstract namespace). Nothing when unset.
/// </summary>
internal static class SdNotify
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "NOTIFY_SOCKET";

    private static readonly Lock Gate = new();
    private static Socket? _connected;

    /// <summary>
    /// Connects to the notification socket now, while the process may still be root. Sending to
    /// a Unix socket file needs write permission on it, checked when the datagram socket connects
    /// (unix(7)); the <c>-d</c> parent's socket belongs to root, so a server that drops to
    /// <c>process.NAME.user</c> must connect before the switch or its READY=1 is refused and the
    /// parent waits in vain. Failures are ignored, as in <see cref="Send"/>.
    /// </summary>
    public static void Connect()
    {
        if (Target() is not { } target)
        {
            return;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(target));
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            socket.Dispose();
            return;
        }
        lock (Gate)
        {
            _connected?.Dispose();
            _connected = socket;
        }
    }

    /// <summary>Stops notifying (the daemon's parent has gone; a connected socket is closed).</summary>
    public static void Forget()
    {
        Environment.SetEnvironmentVariable(Variable, null);
        lock (Gate)
        {
            _connected?.Dispose();
            _connected = null;
        }
    }

    /// <summary>Sends <paramref name="state"/> (e.g. <c>READY=1</c>); failures are ignored (notification is advisory).</summary>
    public static void Send(string state)
    {
        if (Target() is not { } target)
        {
            return;
        }
        try
        {
            lock (Gate)
            {
                if (_connected is { } connected)
                {
                    connected.Send(Encoding.UTF8.GetBytes(state));
                    return;
                }
            }
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(target));
        }
        catch (Exception e) when (e is SocketException or ArgumentException or ObjectDisposedException)
        {
            // The supervisor went away; the server runs on.
        }
    }

    private static string? Target()
    {
        var target = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(target) || OperatingSystem.IsWindows())
        {
            return null;
        }
        return target[0] == '@' ? "\0" + target[1..] : target;
    }
}
