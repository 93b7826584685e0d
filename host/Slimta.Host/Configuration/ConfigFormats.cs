using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary>Maps format names and file extensions to <see cref="ConfigFormat"/>.</summary>
public static class ConfigFormats
{
    /// <summary>
    /// The format named by <paramref name="format"/> (<c>yaml</c>, <c>yml</c>, <c>toml</c>), or, when it
    /// is null, the one implied by the extension of <paramref name="path"/>.
    /// </summary>
    public static ConfigFormat Resolve(string path, string? format)
    {
        if (format is not null)
        {
            return Parse(format);
        }
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            // slimta.conf has always been YAML; any *.conf keeps that meaning.
            ".conf" or ".yaml" or ".yml" => ConfigFormat.Yaml,
            ".toml" => ConfigFormat.Toml,
            _ => throw new ConfigException(string.Empty, $"cannot tell the format of '{path}' from its extension; name the file *.yaml, *.yml, *.toml or slimta.conf, or give the format (yaml or toml)"),
        };
    }

    /// <summary>Parses a format name (case-insensitive).</summary>
    public static ConfigFormat Parse(string format) => format.ToLowerInvariant() switch
    {
        "yaml" or "yml" => ConfigFormat.Yaml,
        "toml" => ConfigFormat.Toml,
        _ => throw new ConfigException(string.Empty, $"unknown configuration format '{format}'; known: toml, yaml"),
    };
}
