using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary>
/// Loads slimta.conf (YAML or TOML) into a validated <see cref="SlimtaConfig"/>. Every problem is a
/// <see cref="ConfigException"/> naming the key path and, where known, the file and line.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Where slimta.conf is looked for when no <c>-c FILE</c> is given, in order (for the current directory and user).</summary>
    public static IReadOnlyList<string> DefaultSearchPaths => SearchPaths(Directory.GetCurrentDirectory(), HomeDirectory);

    /// <summary>The first of <see cref="DefaultSearchPaths"/> that exists, or null.</summary>
    public static string? FindDefault() => FindDefault(Directory.GetCurrentDirectory(), HomeDirectory);

    /// <summary>The first existing of ./slimta.conf, ~/.slimta/slimta.conf, /etc/slimta/slimta.conf for the given directories.</summary>
    internal static string? FindDefault(string currentDirectory, string homeDirectory) =>
        SearchPaths(currentDirectory, homeDirectory).FirstOrDefault(File.Exists);

    private static string HomeDirectory => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static string[] SearchPaths(string currentDirectory, string homeDirectory) =>
    [
        Path.Combine(currentDirectory, "slimta.conf"),
        Path.Combine(homeDirectory, ".slimta", "slimta.conf"),
        "/etc/slimta/slimta.conf",
    ];

    /// <summary>Loads and validates a configuration file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="format"><c>yaml</c> or <c>toml</c>; null to choose by extension.</param>
    /// <exception cref="ConfigException">The file is missing, does not parse, or is not valid.</exception>
    public static SlimtaConfig LoadFile(string path, string? format = null)
    {
        var full = Path.GetFullPath(path);
        var resolved = ConfigFormats.Resolve(full, format);
        return Load(ReadText(full), resolved, full, Path.GetDirectoryName(full)!);
    }

    /// <summary>Loads and validates configuration text (for tests and embedded defaults).</summary>
    /// <param name="text">The document.</param>
    /// <param name="format"><c>yaml</c> or <c>toml</c>.</param>
    /// <param name="virtualFileName">The name used in error locations.</param>
    /// <param name="baseDirectory">Where includes and relative paths are resolved.</param>
    public static SlimtaConfig LoadText(string text, string format, string virtualFileName, string baseDirectory) =>
        Load(text, ConfigFormats.Parse(format), virtualFileName, Path.GetFullPath(baseDirectory));

    /// <summary>Reads a file into the configuration tree only, without binding or validation.</summary>
    public static ConfigMap ReadTree(string path, string? format = null)
    {
        var full = Path.GetFullPath(path);
        var resolved = ConfigFormats.Resolve(full, format);
        return ReadRoot(ReadText(full), resolved, full, Path.GetDirectoryName(full)!);
    }

    private static string ReadText(string full)
    {
        try
        {
            return File.ReadAllText(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(string.Empty, $"cannot read the configuration file {full}: {ex.Message}", null, ex);
        }
    }

    private static SlimtaConfig Load(string text, ConfigFormat format, string file, string directory) =>
        ConfigBinder.Bind(ReadRoot(text, format, file, directory), file, directory);

    private static ConfigMap ReadRoot(string text, ConfigFormat format, string file, string directory)
    {
        var root = new ConfigReadContext().Read(text, format, file, directory, string.Empty);
        return root as ConfigMap
            ?? throw new ConfigException(string.Empty, $"the configuration must be a mapping of sections (process, queue, …), found {root.KindName}", root.Location);
    }
}
