using System.Net;
using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The <c>dns</c> section of an <c>mx</c> relay: <c>servers</c> (a list of <c>ip</c> or
/// <c>ip:port</c>; default: the system's resolvers) and <c>timeout</c> (seconds per query, 5).
/// For tests and split-horizon setups.
/// </summary>
internal sealed class DnsSettings
{
    public IReadOnlyList<IPEndPoint> Servers { get; init; } = [];
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    public static DnsSettings Parse(ComponentOptions? section)
    {
        if (section is null)
        {
            return new DnsSettings();
        }
        section.RequireKnownKeys("servers", "timeout");
        var servers = new List<IPEndPoint>();
        foreach (var text in section.GetStringList("servers"))
        {
            if (IPEndPoint.TryParse(text, out var endPoint))
            {
                servers.Add(endPoint.Port == 0 ? new IPEndPoint(endPoint.Address, 53) : endPoint);
            }
            else
            {
                throw section.Error("servers", $"'{text}' is not an IP address with an optional port");
            }
        }
        var timeout = section.GetSeconds("timeout", TimeSpan.FromSeconds(5));
        if (timeout <= TimeSpan.Zero)
        {
            throw section.Error("timeout", "must be more than 0 seconds");
        }
        return new DnsSettings { Servers = servers, Timeout = timeout };
    }
}
