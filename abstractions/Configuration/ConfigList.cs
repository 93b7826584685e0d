namespace Slimta.Abstractions.Configuration;

/// <summary>A configuration list.</summary>
public sealed class ConfigList : ConfigNode, IEquatable<ConfigList>
{
    /// <summary>Creates a list.</summary>
    public ConfigList(string path, IReadOnlyList<ConfigNode> items, SourceLocation? location = null) : base(path, location) => Items = items;

    /// <summary>The items in order.</summary>
    public IReadOnlyList<ConfigNode> Items { get; }

    /// <inheritdoc />
    public override string KindName => "a list";

    /// <inheritdoc />
    public bool Equals(ConfigList? other) => other is not null && Items.SequenceEqual(other.Items);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ConfigList);

    /// <inheritdoc />
    public override int GetHashCode() => Items.Count;

    /// <inheritdoc />
    public override string ToString() => "[" + string.Join(", ", Items) + "]";
}
