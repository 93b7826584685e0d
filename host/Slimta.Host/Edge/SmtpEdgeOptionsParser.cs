using System.Net;
using System.Text.RegularExpressions;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Edge.Lookups;

namespace Slimta.Host.Edge;

/// <summary>Reads and validates <see cref="SmtpEdgeOptions"/> from an edge's configuration, without side effects.</summary>
public static class SmtpEdgeOptionsParser
{
    /// <summary>The largest <c>max_size</c>: messages are held in memory while they are received.</summary>
    public const int MaxSizeLimit = 1024 * 1024 * 1024;

    private static readonly string[] Keys =
    [
        "listener", "listeners", "hostname", "max_size", "max_recipients", "max_connections",
        "command_timeout", "data_timeout", "max_errors", "rules", .. EdgeRuleSettingsParser.EdgeKeys, .. SmtpSecurityOptionsParser.Keys,
    ];

    private static readonly string[] RuleKeys =
    [
        "banner", "only_senders", "only_recipients", "regex_senders", "regex_recipients", "lookup_senders", "lookup_recipients", .. EdgeRuleSettingsParser.RuleKeys, .. SmtpSecurityOptionsParser.RuleKeys,
    ];

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Validates <paramref name="options"/> and returns the typed options; throws <see cref="ConfigException"/> naming the key.</summary>
    public static SmtpEdgeOptions Parse(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys(Keys);
        var rules = options.GetSection("rules");
        if (rules is not null)
        {
            rules.RequireKnownKeys(RuleKeys);
        }
        var hostname = options.GetString("hostname");
        if (hostname is not null && string.IsNullOrWhiteSpace(hostname))
        {
            throw options.Error("hostname", "must not be empty");
        }
        var banner = rules?.GetString("banner");
        if (banner is not null && (banner.Length == 0 || banner.AsSpan().IndexOfAny('\r', '\n') >= 0))
        {
            throw rules!.Error("banner", "must be one non-empty line");
        }
        return SmtpSecurityOptionsParser.Apply(options, rules, new SmtpEdgeOptions
        {
            Listeners = ParseListeners(options),
            Hostname = hostname,
            Banner = banner ?? "{fqdn} ESMTP Slimta",
            MaxSize = options.GetInt32("max_size", 10485760, 1, MaxSizeLimit),
            // RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients.
            MaxRecipients = options.GetInt32("max_recipients", 1000, 100, 1_000_000),
            MaxConnections = options.GetInt32("max_connections", 1000, 1, 1_000_000),
            MaxErrors = options.GetInt32("max_errors", 10, 1, 10_000),
            CommandTimeout = Positive(options, "command_timeout", TimeSpan.FromMinutes(5)),
            DataTimeout = Positive(options, "data_timeout", TimeSpan.FromMinutes(5)),
            Senders = rules is null ? AddressRules.AllowAll : ParseRules(rules, "senders"),
            Recipients = rules is null ? AddressRules.AllowAll : ParseRules(rules, "recipients"),
            Checks = EdgeRuleSettingsParser.Parse(options, rules),
        });
    }

    private static TimeSpan Positive(ComponentOptions options, string key, TimeSpan defaultValue)
    {
        var value = options.GetSeconds(key, defaultValue);
        if (value <= TimeSpan.Zero)
        {
            throw options.Error(key, "must be more than 0 seconds");
        }
        return value;
    }

    private static List<SmtpListenerOptions> ParseListeners(ComponentOptions options)
    {
        if (options.Has("listener") && options.Has("listeners"))
        {
            throw options.Error("listeners", "give either 'listener' or 'listeners', not both");
        }
        var key = options.Has("listeners") ? "listeners" : "listener";
        var node = options.Map[key];
        IReadOnlyList<ComponentOptions> sections = node switch
        {
            null or ConfigScalar { Value: null } => throw options.Error(null, "the key 'listener' (or 'listeners') is required"),
            ConfigMap map => [new ComponentOptions(map)],
            ConfigList => options.GetSectionList(key),
            _ => throw options.Error(key, $"expected a mapping {{interface, port}} or a list of them, found {node.KindName}"),
        };
        if (sections.Count == 0)
        {
            throw options.Error(key, "at least one listener is required");
        }
        return sections.Select(ParseListener).ToList();
    }

    private static SmtpListenerOptions ParseListener(ComponentOptions listener)
    {
        if (listener.Has("path"))
        {
            throw listener.Error("path", "unix socket listeners are not supported yet; use {interface, port}");
        }
        listener.RequireKnownKeys("interface", "port");
        if (!listener.Has("port"))
        {
            throw listener.Error(null, "the key 'port' is required");
        }
        int port = listener.GetInt32("port", 0, 0, 65535);
        // Without 'interface' only this machine can connect: listening on every interface is a
        // decision the configuration must state.
        var text = listener.GetString("interface") ?? "127.0.0.1";
        IPAddress address = text switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "0.0.0.0" => IPAddress.Any,
            _ when IPAddress.TryParse(text.Trim('[', ']'), out var parsed) => parsed,
            _ => throw listener.Error("interface", $"'{text}' is not an IP address (or 'localhost', '*')"),
        };
        return new SmtpListenerOptions(address, port);
    }

    private static AddressRules ParseRules(ComponentOptions rules, string what)
    {
        var only = rules.GetStringList("only_" + what);
        foreach (var (entry, i) in only.Select((e, i) => (e, i)))
        {
            if (entry.Length == 0 || entry == "@" || entry.AsSpan().IndexOfAny(" \t\r\n<>") >= 0 && entry != "<>")
            {
                throw new ConfigException(ConfigNode.Combine(rules.PathOf("only_" + what), i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    $"'{entry}' is not an address, '@domain' or '<>'", rules.Map.Location);
            }
        }
        var patterns = new List<Regex>();
        var regexKey = "regex_" + what;
        var regexTexts = rules.GetStringList(regexKey);
        for (int i = 0; i < regexTexts.Count; i++)
        {
            try
            {
                patterns.Add(new Regex($"^(?:{regexTexts[i]})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout));
            }
            catch (ArgumentException ex)
            {
                throw new ConfigException(ConfigNode.Combine(rules.PathOf(regexKey), i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    $"not a valid regular expression: {ex.Message}", rules.Map[regexKey]?.Location, ex);
            }
        }
        return new AddressRules(only, patterns, ParseLookup(rules, "lookup_" + what));
    }

    private static IAddressLookup? ParseLookup(ComponentOptions rules, string key)
    {
        var lookup = rules.GetSection(key);
        if (lookup is null)
        {
            return null;
        }
        var type = lookup.GetRequiredString("type");
        switch (type.ToLowerInvariant())
        {
            case "config":
                break;
            case "redis":
                return LookupParser.ParseRedis(lookup);
            case "sqlite3":
                return LookupParser.ParseSqlite(lookup);
            default:
                throw lookup.Error("type", $"unknown lookup type '{type}'; known: config, redis, sqlite3");
        }
        lookup.RequireKnownKeys("type", "map", "key_template");
        var template = lookup.GetString("key_template") ?? "{address}";
        // Only the keys matter here; the values may be anything (python-slimta kept data there).
        var map = lookup.GetSection("map") ?? throw lookup.Error(null, "the key 'map' is required");
        var keys = new HashSet<string>(map.Map.Keys, StringComparer.OrdinalIgnoreCase);
        return new AddressLookup(template, keys);
    }
}
