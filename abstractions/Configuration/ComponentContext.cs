using Microsoft.Extensions.Logging;

namespace Slimta.Abstractions.Configuration;

/// <summary>What the host gives a factory when it creates a component.</summary>
public sealed class ComponentContext
{
    /// <summary>Creates a context.</summary>
    public ComponentContext(TimeProvider time, ILoggerFactory loggers, string hostname, string fqdn, string configDirectory)
    {
        Time = time;
        Loggers = loggers;
        Hostname = hostname;
        Fqdn = fqdn;
        ConfigDirectory = configDirectory;
    }

    /// <summary>The clock every timer and timestamp must use (tests pass a fake one).</summary>
    public TimeProvider Time { get; }

    /// <summary>Logging. Never log message bodies or passwords.</summary>
    public ILoggerFactory Loggers { get; }

    /// <summary>This process's short host name (<c>process.NAME.hostname</c> or the machine's).</summary>
    public string Hostname { get; }

    /// <summary>This process's fully qualified domain name (<c>process.NAME.fqdn</c> or the machine's).</summary>
    public string Fqdn { get; }

    /// <summary>The directory of the main configuration file: relative paths in options are relative to it.</summary>
    public string ConfigDirectory { get; }

    /// <summary>An absolute path for a path given in the configuration.</summary>
    public string ResolvePath(string path) => System.IO.Path.GetFullPath(path, ConfigDirectory);

    /// <summary>Expands the templates <c>{fqdn}</c> and <c>{hostname}</c>.</summary>
    public string Expand(string template) => template.Replace("{fqdn}", Fqdn, StringComparison.Ordinal).Replace("{hostname}", Hostname, StringComparison.Ordinal);
}
