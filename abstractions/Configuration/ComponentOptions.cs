using System.Globalization;

namespace Slimta.Abstractions.Configuration;

/// <summary>
/// The options of one configured component (an edge, queue, relay or policy): a typed, read-only
/// view of its mapping in slimta.conf. Every accessor reports errors as <see cref="ConfigException"/>
/// carrying the key path. Factories call <see cref="RequireKnownKeys"/> so a misspelled key is an
/// error rather than silently ignored.
/// </summary>
public sealed class ComponentOptions
{
    private readonly IReadOnlySet<string> _hostKeys;

    /// <summary>Wraps a mapping. <paramref name="hostKeys"/> are keys the host itself reads (always allowed).</summary>
    public ComponentOptions(ConfigMap map, IReadOnlySet<string>? hostKeys = null)
    {
        Map = map;
        _hostKeys = hostKeys ?? new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>The underlying mapping.</summary>
    public ConfigMap Map { get; }

    /// <summary>The key path of this component (<c>relay.outbound</c>).</summary>
    public string Path => Map.Path;

    /// <summary>The value of <c>type</c>, or null.</summary>
    public string? Type => GetString("type");

    /// <summary>True when <paramref name="key"/> is present (even with a null value).</summary>
    public bool Has(string key) => Map.ContainsKey(key);

    /// <summary>The key path of <paramref name="key"/> under this component.</summary>
    public string PathOf(string key) => ConfigNode.Combine(Path, key);

    /// <summary>An error about <paramref name="key"/> (or about the component itself when key is null).</summary>
    public ConfigException Error(string? key, string problem) =>
        new(key is null ? Path : PathOf(key), problem, key is null ? Map.Location : Map[key]?.Location ?? Map.Location);

    /// <summary>Fails when a key other than <paramref name="allowed"/> (or the host's own keys) is present.</summary>
    public void RequireKnownKeys(params string[] allowed)
    {
        foreach (var key in Map.Keys)
        {
            if (!_hostKeys.Contains(key) && Array.IndexOf(allowed, key) < 0)
            {
                var known = _hostKeys.Concat(allowed).Distinct().Order(StringComparer.Ordinal);
                throw Error(key, $"unknown key; known keys here: {string.Join(", ", known)}");
            }
        }
    }

    /// <summary>The text of a scalar, or null when absent or null.</summary>
    public string? GetString(string key)
    {
        var node = Map[key];
        return node switch
        {
            null => null,
            ConfigScalar s => s.Value,
            _ => throw Error(key, $"expected a value, found {node.KindName}"),
        };
    }

    /// <summary>The text of a scalar that must be present and not empty.</summary>
    public string GetRequiredString(string key)
    {
        var value = GetString(key);
        if (string.IsNullOrEmpty(value))
        {
            throw Map.ContainsKey(key) ? Error(key, "must not be empty") : Error(null, $"the key '{key}' is required");
        }
        return value;
    }

    /// <summary>An integer within [<paramref name="min"/>, <paramref name="max"/>], or the default when absent.</summary>
    public int GetInt32(string key, int defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        (int)GetInt64(key, defaultValue, min, max);

    /// <summary>An integer within [<paramref name="min"/>, <paramref name="max"/>], or the default when absent.</summary>
    public long GetInt64(string key, long defaultValue, long min = long.MinValue, long max = long.MaxValue)
    {
        var text = GetString(key);
        if (text is null)
        {
            return defaultValue;
        }
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(key, $"'{text}' is not a whole number");
        }
        if (value < min || value > max)
        {
            throw Error(key, $"{value} is out of range ({min} to {max})");
        }
        return value;
    }

    /// <summary>A number, or the default when absent.</summary>
    public double GetDouble(string key, double defaultValue, double min = double.MinValue, double max = double.MaxValue)
    {
        var text = GetString(key);
        if (text is null)
        {
            return defaultValue;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
        {
            throw Error(key, $"'{text}' is not a number");
        }
        if (value < min || value > max)
        {
            throw Error(key, $"{value} is out of range ({min} to {max})");
        }
        return value;
    }

    /// <summary>A boolean (<c>true/false</c>, <c>yes/no</c>, <c>on/off</c>, <c>1/0</c>), or the default when absent.</summary>
    public bool GetBoolean(string key, bool defaultValue)
    {
        var text = GetString(key);
        if (text is null)
        {
            return defaultValue;
        }
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw Error(key, $"'{text}' is not true or false"),
        };
    }

    /// <summary>A duration given in (possibly fractional) seconds, or the default when absent.</summary>
    public TimeSpan GetSeconds(string key, TimeSpan defaultValue)
    {
        if (GetString(key) is null)
        {
            return defaultValue;
        }
        var seconds = GetDouble(key, 0, 0, TimeSpan.MaxValue.TotalSeconds / 2);
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>A nested mapping as options, or null when absent.</summary>
    public ComponentOptions? GetSection(string key)
    {
        var node = Map[key];
        return node switch
        {
            null => null,
            ConfigScalar { Value: null } => null,
            ConfigMap m => new ComponentOptions(m),
            _ => throw Error(key, $"expected a mapping, found {node.KindName}"),
        };
    }

    /// <summary>A list of mappings as options (empty when absent).</summary>
    public IReadOnlyList<ComponentOptions> GetSectionList(string key)
    {
        var node = Map[key];
        return node switch
        {
            null or ConfigScalar { Value: null } => [],
            ConfigList l => l.Items.Select((item, i) => item is ConfigMap m
                ? new ComponentOptions(m)
                : throw new ConfigException(ConfigNode.Combine(PathOf(key), i.ToString(CultureInfo.InvariantCulture)), $"expected a mapping, found {item.KindName}", item.Location)).ToList(),
            _ => throw Error(key, $"expected a list, found {node.KindName}"),
        };
    }

    /// <summary>A list of values; a single value counts as a list of one; empty when absent.</summary>
    public IReadOnlyList<string> GetStringList(string key)
    {
        var node = Map[key];
        return node switch
        {
            null or ConfigScalar { Value: null } => [],
            ConfigScalar s => [s.Value!],
            ConfigList l => l.Items.Select((item, i) => item is ConfigScalar { Value: { } v }
                ? v
                : throw new ConfigException(ConfigNode.Combine(PathOf(key), i.ToString(CultureInfo.InvariantCulture)), $"expected a value, found {item.KindName}", item.Location)).ToList(),
            _ => throw Error(key, $"expected a list, found {node.KindName}"),
        };
    }

    /// <summary>A mapping of values to values, in written order; empty when absent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> GetStringMap(string key)
    {
        var node = Map[key];
        return node switch
        {
            null or ConfigScalar { Value: null } => [],
            ConfigMap m => m.Entries.Select(e => e.Value is ConfigScalar s
                ? new KeyValuePair<string, string>(e.Key, s.Value ?? string.Empty)
                : throw new ConfigException(ConfigNode.Combine(PathOf(key), e.Key), $"expected a value, found {e.Value.KindName}", e.Value.Location)).ToList(),
            _ => throw Error(key, $"expected a mapping, found {node.KindName}"),
        };
    }
}
