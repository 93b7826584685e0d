namespace Slimta.Abstractions.Configuration;

/// <summary>
/// One node of the configuration tree, the same whether it came from YAML or TOML. Scalars keep
/// their text (TOML numbers and booleans are turned into their invariant text), so both formats
/// bind to equal trees. Equality is structural and ignores <see cref="Location"/> and <see cref="Path"/>.
/// </summary>
public abstract class ConfigNode
{
    /// <summary>Creates a node.</summary>
    protected ConfigNode(string path, SourceLocation? location)
    {
        Path = path;
        Location = location;
    }

    /// <summary>The dotted key path from the top of the configuration (<c>queue.outbound.retry.delay</c>).</summary>
    public string Path { get; }

    /// <summary>File and line where the node was written, when known.</summary>
    public SourceLocation? Location { get; }

    /// <summary>A short name of the node's kind for error messages (<c>a mapping</c>, <c>a list</c>, <c>a value</c>).</summary>
    public abstract string KindName { get; }

    /// <summary>Joins a parent path and a key or index.</summary>
    public static string Combine(string parent, string key) => parent.Length == 0 ? key : parent + "." + key;
}
