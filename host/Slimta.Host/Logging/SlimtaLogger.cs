using Microsoft.Extensions.Logging;

namespace Slimta.Host.Logging;

/// <summary>One category's logger: formats enabled calls into one line and queues it.</summary>
internal sealed class SlimtaLogger(string category, SlimtaLoggerProvider provider) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= provider.MinimumLevel && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        var line = LogLineFormatter.Format(provider.Format, provider.Time.GetUtcNow(), logLevel, category, eventId, state, exception, formatter);
        provider.Output.Write(line);
    }
}
