using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary>
/// Structural equality for the parts of the typed model that are classes without value
/// equality (<see cref="ComponentOptions"/>, lists), so records compare by content: the same
/// configuration written in YAML and in TOML binds to equal records.
/// </summary>
internal static class ConfigEquality
{
    public static bool Same(ComponentOptions? a, ComponentOptions? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.Map.Equals(b.Map));

    public static bool Same(IReadOnlyList<ComponentOptions> a, IReadOnlyList<ComponentOptions> b) =>
        a.Count == b.Count && a.Zip(b).All(p => Same(p.First, p.Second));

    public static bool Same<T>(IReadOnlyDictionary<string, T> a, IReadOnlyDictionary<string, T> b) =>
        a.Count == b.Count && a.All(e => b.TryGetValue(e.Key, out var other) && EqualityComparer<T>.Default.Equals(e.Value, other));
}
