using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Plugins;

/// <summary>
/// The factories of one kind (relays, storages, …) by <c>type:</c> name: case-insensitive, and a
/// name can be claimed once; a second claim is an error naming both sources.
/// </summary>
/// <typeparam name="T">The factory type.</typeparam>
internal sealed class ExtensionPoint<T>
    where T : class
{
    private readonly Dictionary<string, (T Factory, string Source)> _entries = new(StringComparer.OrdinalIgnoreCase);

    public ExtensionPoint(string kind) => Kind = kind;

    /// <summary>What is registered here, for messages (<c>relay</c>, <c>queue storage</c>).</summary>
    public string Kind { get; }

    /// <summary>The registered names, sorted.</summary>
    public IReadOnlyList<string> Names => _entries.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList();

    public void Add(string type, T factory, string source)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (string.IsNullOrWhiteSpace(type))
        {
            throw new ConfigException("plugins", $"{source} registered a {Kind} with an empty type name");
        }
        if (_entries.TryGetValue(type, out var existing))
        {
            throw new ConfigException("plugins", $"the {Kind} type '{type}' is registered twice: by {existing.Source} and by {source}");
        }
        _entries.Add(type, (factory, source));
    }

    public bool TryGet(string type, out T factory)
    {
        if (_entries.TryGetValue(type, out var entry))
        {
            factory = entry.Factory;
            return true;
        }
        factory = null!;
        return false;
    }

    /// <summary>The source (assembly or built-in name) that registered <paramref name="type"/>, or null.</summary>
    public string? SourceOf(string type) => _entries.TryGetValue(type, out var entry) ? entry.Source : null;

    public bool Contains(string type) => _entries.ContainsKey(type);
}
