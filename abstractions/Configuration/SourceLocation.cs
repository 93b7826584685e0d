namespace Slimta.Abstractions.Configuration;

/// <summary>Where a configuration value was written.</summary>
/// <param name="File">The configuration file.</param>
/// <param name="Line">1-based line number, 0 when the parser could not tell.</param>
public sealed record SourceLocation(string File, int Line)
{
    /// <inheritdoc />
    public override string ToString() => Line > 0 ? $"{File}:{Line}" : File;
}
