using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;

namespace Slimta.Host.Logging;

/// <summary>Builds the process's logging from <c>process.NAME.logging</c>.</summary>
public static class SlimtaLogging
{
    /// <summary>
    /// Creates the loggers. <paramref name="keyPath"/> is the section's path
    /// (<c>process.slimta.logging</c>) for the error when the target file cannot be opened.
    /// </summary>
    /// <exception cref="ConfigException">The target file cannot be opened.</exception>
    public static SlimtaLoggerFactory Create(LoggingConfig config, string keyPath, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var level = ParseLevel(config.Level);
        var format = string.Equals(config.Format, "json", StringComparison.OrdinalIgnoreCase) ? LogFormat.Json : LogFormat.Text;
        LogOutput output;
        switch (config.Target)
        {
            case null or "stdout":
                output = LogOutput.Stdout();
                break;
            case "stderr":
                output = LogOutput.Stderr();
                break;
            default:
                try
                {
                    output = LogOutput.File(config.Target);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
                {
                    throw new ConfigException(ConfigNode.Combine(keyPath, "target"), $"cannot open the log file '{config.Target}' for appending: {e.Message}");
                }
                break;
        }
        var provider = new SlimtaLoggerProvider(format, level, output, time);
        var inner = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(level);
            b.AddProvider(provider);
        });
        return new SlimtaLoggerFactory(inner, provider);
    }

    /// <summary>The level names of <c>logging.level</c> (already checked by the binder).</summary>
    public static LogLevel ParseLevel(string level) =>
        Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsed) ? parsed : LogLevel.Information;
}
