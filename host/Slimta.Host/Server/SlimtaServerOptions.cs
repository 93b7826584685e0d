using Microsoft.Extensions.Logging;

namespace Slimta.Host.Server;

/// <summary>How to run a configuration: which process, which roles, which clock.</summary>
public sealed record SlimtaServerOptions
{
    /// <summary>The <c>process.NAME</c> section to use (<c>-n</c>).</summary>
    public string ProcessName { get; init; } = "slimta";

    /// <summary>True when the name was given with <c>-n</c>: then a missing section is an error, else defaults apply.</summary>
    public bool ProcessNameExplicit { get; init; }

    /// <summary>Open no listeners (<c>--no-edge</c>, and the worker).</summary>
    public bool NoEdge { get; init; }

    /// <summary>Deliver nothing: queues store only (<c>--no-relay</c>).</summary>
    public bool NoRelay { get; init; }

    /// <summary>The clock of every component.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Logging; null for the configuration's own (console).</summary>
    public ILoggerFactory? Loggers { get; init; }

    /// <summary>Plugin directories to use instead of the configured or default ones (tests).</summary>
    public IReadOnlyList<string>? PluginDirectories { get; init; }
}
