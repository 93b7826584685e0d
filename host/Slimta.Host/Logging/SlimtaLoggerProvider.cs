using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Slimta.Host.Logging;

/// <summary>
/// The host's logger provider: one line per event in <see cref="LogFormat.Text"/> or
/// <see cref="LogFormat.Json"/>, written to a <see cref="LogOutput"/>. Registered by
/// <see cref="SlimtaLogging.Create(Slimta.Host.Configuration.LoggingConfig, string)"/>.
/// </summary>
public sealed class SlimtaLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, SlimtaLogger> _loggers = new(StringComparer.Ordinal);

    /// <summary>Creates a provider that owns <paramref name="output"/>.</summary>
    public SlimtaLoggerProvider(LogFormat format, LogLevel minimumLevel, LogOutput output, TimeProvider? time = null)
    {
        Format = format;
        MinimumLevel = minimumLevel;
        Output = output;
        Time = time ?? TimeProvider.System;
    }

    /// <summary>Text or JSON.</summary>
    public LogFormat Format { get; }

    /// <summary>Lines below this level are not formatted at all.</summary>
    public LogLevel MinimumLevel { get; }

    /// <summary>Where lines go.</summary>
    public LogOutput Output { get; }

    /// <summary>The clock of the timestamps.</summary>
    public TimeProvider Time { get; }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new SlimtaLogger(name, this));

    /// <inheritdoc />
    public void Dispose() => Output.Dispose();
}
