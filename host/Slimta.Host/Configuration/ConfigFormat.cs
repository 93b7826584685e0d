namespace Slimta.Host.Configuration;

/// <summary>The syntax of a configuration file. Chosen by extension or explicitly, never sniffed.</summary>
public enum ConfigFormat
{
    /// <summary>YAML (<c>slimta.conf</c>, <c>*.yaml</c>, <c>*.yml</c>).</summary>
    Yaml,

    /// <summary>TOML 1.1 (<c>*.toml</c>).</summary>
    Toml,
}
