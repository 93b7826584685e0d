namespace Slimta.Abstractions.Configuration;

/// <summary>A configuration mapping. Keys are compared ordinally (as written), order is kept.</summary>
public sealed class ConfigMap : ConfigNode, IEquatable<ConfigMap>
{
    private readonly Dictionary<string, ConfigNode> _entries;

    /// <summary>Creates a mapping from ordered entries. A duplicate key is rejected.</summary>
    public ConfigMap(string path, IEnumerable<KeyValuePair<string, ConfigNode>> entries, SourceLocation? location = null) : base(path, location)
    {
        _entries = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        var keys = new List<string>();
        foreach (var (key, value) in entries)
        {
            if (!_entries.TryAdd(key, value))
            {
                throw new ConfigException(Combine(path, key), "the key is given twice", value.Location);
            }
            keys.Add(key);
        }
        Keys = keys;
    }

    /// <summary>An empty mapping at <paramref name="path"/>.</summary>
    public static ConfigMap Empty(string path) => new(path, []);

    /// <summary>The keys in the order they were written.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>The entries in the order they were written.</summary>
    public IEnumerable<KeyValuePair<string, ConfigNode>> Entries => Keys.Select(k => new KeyValuePair<string, ConfigNode>(k, _entries[k]));

    /// <summary>The node under <paramref name="key"/>, or null.</summary>
    public ConfigNode? this[string key] => _entries.GetValueOrDefault(key);

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <inheritdoc />
    public override string KindName => "a mapping";

    /// <inheritdoc />
    public bool Equals(ConfigMap? other)
    {
        if (other is null || other._entries.Count != _entries.Count)
        {
            return false;
        }
        foreach (var (key, value) in _entries)
        {
            if (!other._entries.TryGetValue(key, out var theirs) || !value.Equals(theirs))
            {
                return false;
            }
        }
        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ConfigMap);

    /// <inheritdoc />
    public override int GetHashCode() => _entries.Count;

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(", ", Entries.Select(e => e.Key + ": " + e.Value)) + "}";
}
