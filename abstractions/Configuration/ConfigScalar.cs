namespace Slimta.Abstractions.Configuration;

/// <summary>A scalar configuration value, kept as text; null for an explicit YAML null.</summary>
public sealed class ConfigScalar : ConfigNode, IEquatable<ConfigScalar>
{
    /// <summary>Creates a scalar.</summary>
    public ConfigScalar(string path, string? value, SourceLocation? location = null) : base(path, location) => Value = value;

    /// <summary>The text of the value, or null.</summary>
    public string? Value { get; }

    /// <inheritdoc />
    public override string KindName => "a value";

    /// <inheritdoc />
    public bool Equals(ConfigScalar? other) => other is not null && string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ConfigScalar);

    /// <inheritdoc />
    public override int GetHashCode() => Value?.GetHashCode(StringComparison.Ordinal) ?? 0;

    /// <inheritdoc />
    public override string ToString() => Value ?? "null";
}
