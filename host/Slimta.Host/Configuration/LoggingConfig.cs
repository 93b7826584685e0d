namespace Slimta.Host.Configuration;

/// <summary><c>process.NAME.logging</c>.</summary>
/// <param name="Level">Minimum level: trace, debug, information, warning, error, critical or none.</param>
/// <param name="Format"><c>text</c> or <c>json</c>.</param>
/// <param name="Target">Where to write: null or <c>stdout</c> (standard output), <c>stderr</c>, or an absolute file path (appended to).</param>
public sealed record LoggingConfig(string Level, string Format, string? Target)
{
    /// <summary>The defaults: information, text, console.</summary>
    public static LoggingConfig Default { get; } = new("information", "text", null);
}
