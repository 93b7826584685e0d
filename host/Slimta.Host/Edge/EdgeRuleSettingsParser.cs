using System.Globalization;
using System.Net;
using Slimta.Abstractions.Configuration;
using Slimta.Smtp.Dns;
using Slimta.Host.Edge.Dnsbl;
using Slimta.Host.Edge.Spam;
using Slimta.Smtp.Spf;

namespace Slimta.Host.Edge;

/// <summary>Reads <see cref="EdgeRuleSettings"/>: the edge keys <c>dns</c>, <c>reverse_dns</c> and the rules <c>dnsbl</c>, <c>reject_spf</c>, <c>reject_spam</c>.</summary>
public static class EdgeRuleSettingsParser
{
    /// <summary>Edge keys read here.</summary>
    public static readonly string[] EdgeKeys = ["dns", "reverse_dns"];

    /// <summary>Rule keys read here.</summary>
    public static readonly string[] RuleKeys = ["dnsbl", "reject_spf", "reject_spam"];

    /// <summary>Validates and reads the settings.</summary>
    public static EdgeRuleSettings Parse(ComponentOptions options, ComponentOptions? rules) => new()
    {
        Dns = ParseDns(options),
        ReverseDns = options.GetBoolean("reverse_dns", false),
        Dnsbl = rules is null ? null : ParseDnsbl(rules),
        RejectSpf = rules is null ? new HashSet<SpfResult>() : ParseRejectSpf(rules),
        RejectSpam = rules is null ? null : ParseSpam(rules),
    };

    private static DnsSettings ParseDns(ComponentOptions options)
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
            // "127.0.0.1", "127.0.0.1:5353", "[::1]:5353" or "::1".
            bool hasPort = text.StartsWith('[') || text.Count(c => c == ':') == 1;
            IPEndPoint? endPoint = hasPort
                ? (IPEndPoint.TryParse(text, out var withPort) ? withPort : null)
                : (IPAddress.TryParse(text, out var bare) ? new IPEndPoint(bare, 53) : null);
            if (endPoint is { Port: 0 } && !text.EndsWith(":0", StringComparison.Ordinal))
            {
                endPoint.Port = 53;
            }
            if (endPoint is null || endPoint.Port == 0)
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

    private static DnsblSettings? ParseDnsbl(ComponentOptions rules)
    {
        var node = rules.Map["dnsbl"];
        // A zone, a list of zones, or {address: zone(s), ignore: [CIDR]}; false/null: off.
        switch (node)
        {
            case null:
            case ConfigScalar { Value: null }:
                return null;
            case ConfigScalar s when s.Value!.ToLowerInvariant() is "false" or "no" or "off":
                return null;
            case ConfigScalar or ConfigList:
                return new DnsblSettings(Zones(rules, "dnsbl"), []);
            case ConfigMap:
                var map = rules.GetSection("dnsbl")!;
                map.RequireKnownKeys("address", "ignore");
                if (!map.Has("address"))
                {
                    throw map.Error(null, "the key 'address' (the DNSBL zone or zones) is required");
                }
                var ignore = new List<IPNetwork>();
                foreach (var (text, i) in map.GetStringList("ignore").Select((t, i) => (t, i)))
                {
                    IPNetwork network;
                    if (IPAddress.TryParse(text, out var single))
                    {
                        network = new IPNetwork(single, single.GetAddressBytes().Length * 8);
                    }
                    // A network with host bits set (10.0.0.1/8) is most likely a typo: refuse it
                    // rather than guess which network was meant.
                    else if (!IPNetwork.TryParse(text, out network) || !network.BaseAddress.Equals(IPAddress.Parse(text[..text.IndexOf('/')])))
                    {
                        throw new ConfigException(ConfigNode.Combine(map.PathOf("ignore"), i.ToString(CultureInfo.InvariantCulture)),
                            $"'{text}' is not a network (CIDR such as 10.0.0.0/8, host bits zero) or an address", map.Map["ignore"]?.Location);
                    }
                    ignore.Add(network);
                }
                return new DnsblSettings(Zones(map, "address"), ignore);
            default:
                throw rules.Error("dnsbl", $"expected a zone, a list of zones or {{address, ignore}}, found {node.KindName}");
        }
    }

    private static List<string> Zones(ComponentOptions options, string key)
    {
        var zones = options.GetStringList(key).Select(z => z.Trim().TrimEnd('.')).ToList();
        if (zones.Count == 0)
        {
            throw options.Error(key, "at least one DNSBL zone is required");
        }
        foreach (var zone in zones)
        {
            if (zone.Length == 0 || zone.Length > 200 || zone.AsSpan().IndexOfAny(" \t/@:") >= 0 || zone.Split('.').Any(l => l.Length == 0 || l.Length > 63))
            {
                throw options.Error(key, $"'{zone}' is not a DNS zone name");
            }
        }
        return zones;
    }

    private static HashSet<SpfResult> ParseRejectSpf(ComponentOptions rules)
    {
        var results = new HashSet<SpfResult>();
        foreach (var text in rules.GetStringList("reject_spf"))
        {
            SpfResult result = text.ToLowerInvariant() switch
            {
                "none" => SpfResult.None,
                "neutral" => SpfResult.Neutral,
                "pass" => SpfResult.Pass,
                "fail" => SpfResult.Fail,
                "softfail" => SpfResult.SoftFail,
                "temperror" => SpfResult.TempError,
                "permerror" => SpfResult.PermError,
                _ => throw rules.Error("reject_spf", $"'{text}' is not an SPF result (none, neutral, pass, fail, softfail, temperror, permerror)"),
            };
            results.Add(result);
        }
        return results;
    }

    private static SpamdSettings? ParseSpam(ComponentOptions rules)
    {
        if (rules.Map["reject_spam"] is ConfigScalar { Value: var v } && (v is null || v.ToLowerInvariant() is "false" or "no" or "off"))
        {
            return null;
        }
        var spam = rules.GetSection("reject_spam");
        if (spam is null)
        {
            return null;
        }
        spam.RequireKnownKeys("type", "host", "port", "timeout");
        var type = spam.GetString("type") ?? "spamassassin";
        if (!type.Equals("spamassassin", StringComparison.OrdinalIgnoreCase))
        {
            throw spam.Error("type", $"unknown spam checker '{type}'; known: spamassassin");
        }
        var host = spam.GetString("host") ?? "127.0.0.1";
        if (host.Length == 0)
        {
            throw spam.Error("host", "must not be empty");
        }
        var timeout = spam.GetSeconds("timeout", TimeSpan.FromSeconds(30));
        if (timeout <= TimeSpan.Zero)
        {
            throw spam.Error("timeout", "must be more than 0 seconds");
        }
        return new SpamdSettings(host, spam.GetInt32("port", 783, 1, 65535), timeout);
    }
}
