using System.Net;
using System.Net.Sockets;

namespace Slimta.Testing;

/// <summary>Ephemeral ports for external servers that cannot be told to bind port 0.</summary>
public static class FreePort
{
    /// <summary>A port the OS just handed out on 127.0.0.1 (released again for the caller to use).</summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
