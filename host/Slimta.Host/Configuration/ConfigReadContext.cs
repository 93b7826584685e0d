using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary>
/// State shared while one configuration and its includes are read: the chain of files being
/// included, so an include cycle is an error instead of a stack overflow.
/// </summary>
internal sealed class ConfigReadContext
{
    private readonly List<string> _chain = [];

    /// <summary>
    /// Reads <paramref name="fullPath"/> as the node at <paramref name="keyPath"/>. Problems with the
    /// include itself are reported at <paramref name="errorPath"/> (default: <paramref name="keyPath"/>).
    /// </summary>
    public ConfigNode ReadInclude(string fullPath, string keyPath, SourceLocation? includedFrom, ConfigFormat? defaultFormat, string? errorPath = null)
    {
        var includePath = errorPath ?? keyPath;
        if (_chain.Contains(fullPath, StringComparer.Ordinal))
        {
            throw new ConfigException(includePath, $"include cycle: {string.Join(" -> ", _chain.Append(fullPath))}", includedFrom);
        }
        if (!File.Exists(fullPath))
        {
            throw new ConfigException(includePath, $"included file not found: {fullPath}", includedFrom);
        }
        ConfigFormat format;
        try
        {
            format = ConfigFormats.Resolve(fullPath, null);
        }
        catch (ConfigException) when (defaultFormat is not null)
        {
            // An included file with an unusual extension (secrets.inc) takes the includer's format.
            format = defaultFormat.Value;
        }
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(includePath, $"cannot read included file {fullPath}: {ex.Message}", includedFrom, ex);
        }
        return Read(text, format, fullPath, System.IO.Path.GetDirectoryName(fullPath)!, keyPath);
    }

    /// <summary>Parses <paramref name="text"/> as the node at <paramref name="keyPath"/>.</summary>
    public ConfigNode Read(string text, ConfigFormat format, string fileName, string baseDirectory, string keyPath)
    {
        _chain.Add(fileName);
        try
        {
            return format switch
            {
                ConfigFormat.Yaml => new YamlConfigReader(this, fileName, baseDirectory).Read(text, keyPath),
                _ => new TomlConfigReader(this, fileName, baseDirectory).Read(text, keyPath),
            };
        }
        finally
        {
            _chain.RemoveAt(_chain.Count - 1);
        }
    }
}
