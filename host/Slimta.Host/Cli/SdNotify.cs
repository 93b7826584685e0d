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

    /// <summary>Sends <paramref name="state"/> (e.g. <c>READY=1</c>); failures are ignored (notification is advisory).</summary>
    public static void Send(string state)
    {
        var target = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(target) || OperatingSystem.IsWindows())
        {
            return;
        }
        if (target[0] == '@')
        {
            target = "\0" + target[1..];
        }
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(target));
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            // The supervisor went away; the server runs on.
        }
    }
}
