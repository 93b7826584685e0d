using Microsoft.Extensions.Logging;

namespace Slimta.Host.Logging;

/// <summary>
/// The logger factory of a running process (<see cref="SlimtaLogging.Create(Slimta.Host.Configuration.LoggingConfig, string)"/>):
/// an ordinary <see cref="ILoggerFactory"/> plus <see cref="Reopen"/> for log rotation.
/// </summary>
public sealed class SlimtaLoggerFactory : ILoggerFactory
{
    private readonly ILoggerFactory _inner;

    internal SlimtaLoggerFactory(ILoggerFactory inner, SlimtaLoggerProvider provider)
    {
        _inner = inner;
        Provider = provider;
    }

    /// <summary>The provider writing the lines.</summary>
    public SlimtaLoggerProvider Provider { get; }

    /// <summary>Reopens the log file (call on SIGHUP after rotation); no effect on stdout/stderr.</summary>
    public void Reopen() => Provider.Output.Reopen();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => _inner.CreateLogger(categoryName);

    /// <inheritdoc />
    public void AddProvider(ILoggerProvider provider) => _inner.AddProvider(provider);

    /// <summary>Writes and flushes every queued line, then closes the output.</summary>
    public void Dispose() => _inner.Dispose();
}
