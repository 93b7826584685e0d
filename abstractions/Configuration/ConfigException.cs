namespace Slimta.Abstractions.Configuration;

/// <summary>
/// A configuration error. The message starts with the dotted key path and ends with the file and
/// line when known: <c>queue.outbound.retry.delay: not a valid expression (slimta.conf:14)</c>.
/// The host stops startup on it before any port is opened.
/// </summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates a configuration error.</summary>
    public ConfigException(string keyPath, string problem, SourceLocation? location = null, Exception? inner = null)
        : base(Format(keyPath, problem, location), inner)
    {
        KeyPath = keyPath;
        Problem = problem;
        Location = location;
    }

    /// <summary>The dotted path of the offending key.</summary>
    public string KeyPath { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }

    /// <summary>Where the key was written, when known.</summary>
    public SourceLocation? Location { get; }

    private static string Format(string keyPath, string problem, SourceLocation? location)
    {
        var head = keyPath.Length == 0 ? problem : $"{keyPath}: {problem}";
        return location is null ? head : $"{head} ({location})";
    }
}
