using System.Globalization;
using System.Net;
using Slimta.Abstractions.Configuration;
using Slimta.Smtp.Dns;

namespace Slimta.Plugins.MailAuth;

/// <summary>
/// Reads a <c>dns: {servers, timeout}</c> section in the same format as the edge's
/// (<c>"127.0.0.1"</c>, <c>"127.0.0.1:5353"</c>, <c>"[::1]:5353"</c>; timeout in seconds, at most 60).
/// </summary>
internal static class DnsOptions
{
    public static DnsSettings Parse(ComponentOptions options)
    {
        var dns = options.GetSection("dns");
        if (dns is null)
        {
            return DnsSettings.Default;
        }
        dns.RequireKnownKeys("servers", "timeout");
        var servers = new List<IPEndPoint>();
        foreach (var (text, i) in dns.GetStringList("servers").Select((t, i) => (t, i)))
        {
            bool hasPort = text.StartsWith('[') || text.Count(c => c == ':') == 1;
            IPEndPoint? endPoint = hasPort
                ? (IPEndPoint.TryParse(text, out var withPort) && withPort.Port != 0 ? withPort : null)
                : (IPAddress.TryParse(text, out var bare) ? new IPEndPoint(bare, 53) : null);
            if (endPoint is null)
            {
                throw new ConfigException(ConfigNode.Combine(dns.PathOf("servers"), i.ToString(CultureInfo.InvariantCulture)),
                    $"'{text}' is not an IP address with an optional port", dns.Map["servers"]?.Location);
            }
            servers.Add(endPoint);
        }
        var timeout = dns.GetSeconds("timeout", DnsSettings.Default.Timeout);
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromMinutes(1))
        {
            throw dns.Error("timeout", "must be more than 0 and at most 60 seconds");
        }
        return new DnsSettings(servers, timeout);
    }
}
