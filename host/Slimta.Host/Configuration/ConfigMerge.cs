using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary>
/// The document merge rule for TOML includes: mappings merge key by key, recursively; for any
/// other value (a scalar or a list) the later document replaces the earlier one. Lists are
/// replaced, not concatenated, so an override never leaves stale items behind.
/// </summary>
internal static class ConfigMerge
{
    /// <summary>Merges <paramref name="top"/> over <paramref name="bottom"/>.</summary>
    public static ConfigNode Merge(ConfigNode bottom, ConfigNode top)
    {
        if (bottom is not ConfigMap lower || top is not ConfigMap upper)
        {
            return top;
        }
        var entries = new List<KeyValuePair<string, ConfigNode>>();
        foreach (var (key, value) in lower.Entries)
        {
            entries.Add(new(key, upper[key] is { } over ? Merge(value, over) : value));
        }
        foreach (var (key, value) in upper.Entries)
        {
            if (!lower.ContainsKey(key))
            {
                entries.Add(new(key, value));
            }
        }
        return new ConfigMap(upper.Path, entries, upper.Location ?? lower.Location);
    }
}
