using System.Globalization;

namespace Slimta.Testing;

/// <summary>Reads /proc/net/tcp and /proc/net/udp to see whether a server bound its port, without connecting to it.</summary>
public static class ProcNet
{
    /// <summary>True when 127.0.0.1:<paramref name="port"/> is listening (TCP) or bound (UDP).</summary>
    public static bool IsListening(string table, int port, bool udp)
    {
        // "sl local_address rem_address st ...": 0100007F is 127.0.0.1; 0A is LISTEN for TCP,
        // 07 (CLOSE) is a bound UDP socket.
        var needle = "0100007F:" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines(table))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 3 && parts[1] == needle && parts[3] == (udp ? "07" : "0A"))
            {
                return true;
            }
        }
        return false;
    }
}
