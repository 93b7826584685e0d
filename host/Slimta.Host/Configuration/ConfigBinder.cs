using System.Collections.ObjectModel;
using Slimta.Abstractions.Configuration;

using Slimta.Host.Queueing;

namespace Slimta.Host.Configuration;

/// <summary>
/// Binds the configuration tree to the typed model and checks what the host owns: required
/// sections, <c>type</c> keys, cross references and the queue rules of the seed document.
/// Component-specific keys are left to each type's factory (Validate then Create).
/// </summary>
internal static class ConfigBinder
{
    private const string Custom = "custom";
    private const string Proxy = "proxy";

    private static readonly string[] ProcessKeys = ["daemon", "hostname", "fqdn", "pid_file", "user", "group", "stdout", "stderr", "logging", "metrics", "control_socket", "shutdown_timeout"];
    private static readonly string[] LogLevels = ["trace", "debug", "information", "warning", "error", "critical", "none"];

    public static SlimtaConfig Bind(ConfigMap root, string file, string directory)
    {
        var processes = Section(root, "process", required: true);
        var edges = Section(root, "edge", required: false);
        var queues = Section(root, "queue", required: true);
        var relays = Section(root, "relay", required: false);

        var relayConfigs = Entries(relays).ToDictionary(e => e.Key, e => BindRelay(e.Key, e.Value), StringComparer.Ordinal);
        var queueConfigs = Entries(queues).ToDictionary(e => e.Key, e => BindQueue(e.Key, e.Value, relayConfigs, queues), StringComparer.Ordinal);
        var edgeConfigs = Entries(edges).ToDictionary(e => e.Key, e => BindEdge(e.Key, e.Value, queues), StringComparer.Ordinal);
        var processConfigs = Entries(processes).ToDictionary(e => e.Key, e => BindProcess(e.Key, e.Value, directory), StringComparer.Ordinal);

        return new SlimtaConfig(
            file,
            directory,
            root,
            new ReadOnlyDictionary<string, ProcessConfig>(processConfigs),
            new ReadOnlyDictionary<string, EdgeConfig>(edgeConfigs),
            new ReadOnlyDictionary<string, QueueConfig>(queueConfigs),
            new ReadOnlyDictionary<string, RelayConfig>(relayConfigs),
            PluginDirectories(root, directory));
    }

    private static ProcessConfig BindProcess(string name, ConfigMap map, string directory)
    {
        var options = new ComponentOptions(map);
        options.RequireKnownKeys(ProcessKeys);
        return new ProcessConfig(
            name,
            options.GetBoolean("daemon", false),
            options.GetString("hostname"),
            options.GetString("fqdn"),
            options.GetString("pid_file"),
            options.GetString("user"),
            options.GetString("group"),
            options.GetString("stdout"),
            options.GetString("stderr"),
            BindLogging(options.GetSection("logging"), directory),
            options)
        {
            Metrics = BindMetrics(options),
        };
    }

    /// <summary>
    /// <c>process.NAME.metrics: {listener: {interface, port}, path}</c>: the Prometheus endpoint.
    /// The listener has the shape of an edge's; without <c>interface</c> only this machine can scrape.
    /// </summary>
    private static MetricsConfig? BindMetrics(ComponentOptions process)
    {
        if (!process.Has("metrics"))
        {
            return null;
        }
        var metrics = process.GetSection("metrics")
            ?? throw process.Error("metrics", "expected a mapping {listener: {interface, port}, path}");
        metrics.RequireKnownKeys("listener", "path");
        var listener = metrics.GetSection("listener")
            ?? throw (metrics.Has("listener") ? metrics.Error("listener", "expected a mapping {interface, port}") : metrics.Error(null, "the key 'listener' is required"));
        listener.RequireKnownKeys("interface", "port");
        if (!listener.Has("port"))
        {
            throw listener.Error(null, "the key 'port' is required");
        }
        int port = listener.GetInt32("port", 0, 1, 65535);
        var address = listener.GetString("interface") ?? "127.0.0.1";
        address = address switch
        {
            "localhost" => "127.0.0.1",
            "*" => "0.0.0.0",
            _ when System.Net.IPAddress.TryParse(address.Trim('[', ']'), out var ip) => ip.ToString(),
            _ => throw listener.Error("interface", $"'{address}' is not an IP address (or 'localhost', '*')"),
        };
        var path = metrics.GetString("path") ?? MetricsConfig.DefaultPath;
        if (!path.StartsWith('/') || path.Any(c => char.IsWhiteSpace(c) || c is '?' or '#' || char.IsControl(c)))
        {
            throw metrics.Error("path", $"'{path}' is not a URL path (it starts with '/', without spaces, '?' or '#')");
        }
        return new MetricsConfig(address, port, path);
    }

    private static LoggingConfig BindLogging(ComponentOptions? logging, string directory)
    {
        if (logging is null)
        {
            return LoggingConfig.Default;
        }
        logging.RequireKnownKeys("level", "format", "target");
        var level = (logging.GetString("level") ?? LoggingConfig.Default.Level).ToLowerInvariant() switch
        {
            "info" => "information",
            "warn" => "warning",
            var other => other,
        };
        if (!LogLevels.Contains(level))
        {
            throw logging.Error("level", $"unknown level '{logging.GetString("level")}'; known: {string.Join(", ", LogLevels)}");
        }
        var format = (logging.GetString("format") ?? LoggingConfig.Default.Format).ToLowerInvariant();
        if (format is not ("text" or "json"))
        {
            throw logging.Error("format", $"unknown format '{logging.GetString("format")}'; known: text, json");
        }
        // stdout (the default), stderr, or a file appended to, relative to the configuration file.
        var target = logging.GetString("target");
        if (target is not null && target is not ("stdout" or "stderr"))
        {
            if (target.Trim().Length == 0)
            {
                throw logging.Error("target", "must be stdout, stderr or a file path");
            }
            target = Path.GetFullPath(target, directory);
            if (Directory.Exists(target))
            {
                throw logging.Error("target", $"'{target}' is a directory; give a file path (or stdout, stderr)");
            }
        }
        return new LoggingConfig(level, format, target);
    }

    private static EdgeConfig BindEdge(string name, ConfigMap map, ConfigMap queues)
    {
        var options = new ComponentOptions(map, HostKeys.Edge);
        var type = options.GetRequiredString("type");
        var queue = options.GetRequiredString("queue");
        RequireEntry(options, "queue", queue, queues, "queue");
        return new EdgeConfig(name, type, queue, Factory(options, type), options);
    }

    private static QueueConfig BindQueue(string name, ConfigMap map, IReadOnlyDictionary<string, RelayConfig> relays, ConfigMap queues)
    {
        var options = new ComponentOptions(map, HostKeys.Queue);
        var type = options.GetRequiredString("type");
        var relay = options.GetString("relay");
        if (relay is not null && !relays.ContainsKey(relay))
        {
            throw options.Error("relay", $"no relay named '{relay}'; relays: {List(relays.Keys)}");
        }
        var bounceQueue = options.GetString("bounce_queue");
        if (bounceQueue is not null)
        {
            RequireEntry(options, "bounce_queue", bounceQueue, queues, "queue");
        }
        bool isProxy = type.Equals(Proxy, StringComparison.OrdinalIgnoreCase);
        bool isCustom = type.Equals(Custom, StringComparison.OrdinalIgnoreCase);
        if (isProxy && options.Has("policies"))
        {
            throw options.Error("policies", "a proxy queue delivers at once and runs no policies; remove 'policies' or use a storage queue type");
        }
        if ((isProxy || isCustom) && options.Has("retry"))
        {
            throw options.Error("retry", $"a {type} queue does not retry; remove 'retry' or use a storage queue type");
        }
        if ((isProxy || isCustom) && options.Has("bounce"))
        {
            throw options.Error("bounce", $"a {type} queue sends no bounces; remove 'bounce' or use a storage queue type");
        }
        return new QueueConfig(name, type, relay, bounceQueue, Factory(options, type), Policies(options), BindRetry(options), options)
        {
            Bounce = BindBounce(options),
        };
    }

    /// <summary><c>policies: [{type: ...}, ...]</c> of a queue or a relay; each needs a type.</summary>
    private static List<ComponentOptions> Policies(ComponentOptions options) =>
        options.GetSectionList("policies").Select(p =>
        {
            var policy = new ComponentOptions(p.Map, HostKeys.Policy);
            policy.GetRequiredString("type");
            return policy;
        }).ToList();

    private static BounceSettings BindBounce(ComponentOptions queue)
    {
        if (!queue.Has("bounce"))
        {
            return BounceSettings.Default;
        }
        // "bounce:" with nothing under it means the defaults, like an empty mapping.
        var bounce = queue.GetSection("bounce") ?? new ComponentOptions(ConfigMap.Empty(queue.PathOf("bounce")));
        return BounceSettings.Read(bounce);
    }

    private static RetryConfig? BindRetry(ComponentOptions queue)
    {
        if (!queue.Has("retry"))
        {
            return null;
        }
        // "retry:" with nothing under it means the defaults, like an empty mapping.
        var retry = queue.GetSection("retry") ?? new ComponentOptions(ConfigMap.Empty(queue.PathOf("retry")));
        retry.RequireKnownKeys("delay", "maximum");
        var delay = retry.GetString("delay") ?? RetryConfig.DefaultDelay;
        int? maximum = retry.GetString("maximum") is null ? null : retry.GetInt32("maximum", 0, 0);
        // Compiling the schedule checks the expression now, so a bad one fails the load with its path.
        RetrySchedule.Create(delay, maximum ?? 0, retry.Path, retry.Map["delay"]?.Location ?? retry.Map.Location);
        return new RetryConfig(delay, maximum, retry.Path);
    }

    private static RelayConfig BindRelay(string name, ConfigMap map)
    {
        var options = new ComponentOptions(map, HostKeys.Relay);
        var type = options.GetRequiredString("type");
        return new RelayConfig(name, type, Factory(options, type), options, Policies(options));
    }

    /// <summary><c>factory</c> is required by <c>custom</c> and meaningless (so an error) elsewhere.</summary>
    private static string? Factory(ComponentOptions options, string type)
    {
        if (type.Equals(Custom, StringComparison.OrdinalIgnoreCase))
        {
            return options.GetRequiredString("factory");
        }
        if (options.Has("factory"))
        {
            throw options.Error("factory", $"only a custom {options.Path.Split('.')[0]} has a factory (this one is type '{type}')");
        }
        return null;
    }

    private static void RequireEntry(ComponentOptions options, string key, string name, ConfigMap section, string kind)
    {
        if (!section.ContainsKey(name))
        {
            throw options.Error(key, $"no {kind} named '{name}'; {kind}s: {List(section.Keys)}");
        }
    }

    private static ConfigMap Section(ConfigMap root, string key, bool required)
    {
        return root[key] switch
        {
            ConfigMap map => map,
            null when required => throw new ConfigException(key, $"the top-level key '{key}' is required", root.Location),
            null or ConfigScalar { Value: null } when !required => ConfigMap.Empty(key),
            { } node => throw new ConfigException(key, $"expected a mapping of names to {key} settings, found {node.KindName}", node.Location),
            _ => ConfigMap.Empty(key),
        };
    }

    private static IEnumerable<KeyValuePair<string, ConfigMap>> Entries(ConfigMap section)
    {
        foreach (var (name, node) in section.Entries)
        {
            yield return node switch
            {
                ConfigMap map => new(name, map),
                // "process: {slimta: }" is a process with every default.
                ConfigScalar { Value: null } when section.Path == "process" => new(name, ConfigMap.Empty(node.Path)),
                _ => throw new ConfigException(node.Path, $"expected a mapping, found {node.KindName}", node.Location),
            };
        }
    }

    private static IReadOnlyList<string> PluginDirectories(ConfigMap root, string directory)
    {
        var options = new ComponentOptions(root);
        if (!options.Has("plugins"))
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "plugins");
            return Directory.Exists(beside) ? [beside] : [];
        }
        return options.GetStringList("plugins").Select(d => Path.GetFullPath(d, directory)).ToList();
    }

    private static string List(IEnumerable<string> names)
    {
        var list = string.Join(", ", names);
        return list.Length == 0 ? "(none)" : list;
    }
}
