namespace Slimta.Host.Configuration;

/// <summary>
/// A YAML node as parsed, before paths are given: an alias reuses the anchored node, which is
/// then converted once per place it appears, each time with that place's key path.
/// </summary>
internal abstract record YamlRawNode(string? Tag, int Line)
{
    /// <summary>A scalar with its text and whether it was written plain (unquoted).</summary>
    internal sealed record Scalar(string? Tag, int Line, string Value, bool IsPlain) : YamlRawNode(Tag, Line);

    /// <summary>A sequence.</summary>
    internal sealed record Sequence(string? Tag, int Line, IReadOnlyList<YamlRawNode> Items) : YamlRawNode(Tag, Line);

    /// <summary>A mapping; keys are scalars, kept in written order with duplicates (reported later).</summary>
    internal sealed record Mapping(string? Tag, int Line, IReadOnlyList<KeyValuePair<Scalar, YamlRawNode>> Entries) : YamlRawNode(Tag, Line);
}
