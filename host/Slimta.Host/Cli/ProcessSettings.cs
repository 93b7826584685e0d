using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Server;

namespace Slimta.Host.Cli;

/// <summary>The <c>process.NAME</c> keys read by the executable itself: control socket, shutdown grace, pid file.</summary>
public static class ProcessSettings
{
    /// <summary>The default of <c>process.NAME.shutdown_timeout</c>.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary><c>shutdown_timeout</c> (seconds): how long SIGTERM waits for sessions and attempts.</summary>
    public static TimeSpan ShutdownTimeout(ProcessConfig process)
    {
        var timeout = process.Options.GetSeconds("shutdown_timeout", DefaultShutdownTimeout);
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromHours(1))
        {
            throw process.Options.Error("shutdown_timeout", "must be more than 0 and at most 3600 seconds");
        }
        return timeout;
    }

    /// <summary>The pid file: <c>-p FILE</c>, else <c>pid_file</c> (relative to the configuration's directory), else null.</summary>
    public static string? PidFile(ProcessConfig process, string configDirectory, string? commandLine) =>
        commandLine is not null ? Path.GetFullPath(commandLine)
        : process.PidFile is { } p ? Path.GetFullPath(p, configDirectory)
        : null;

    /// <summary>
    /// The control socket's path and whether it was configured; null when it is turned off
    /// (<c>control_socket: ""</c> or <c>none</c>). Default: next to the pid file
    /// (<c>slimta.pid</c> → <c>slimta.sock</c>); without one <c>/run/slimta/NAME.sock</c> for root,
    /// else <c>$XDG_RUNTIME_DIR/slimta/NAME.sock</c> or <c>/tmp/slimta-UID/NAME.sock</c>.
    /// </summary>
    public static (string? Path, bool Explicit) ControlSocket(ProcessConfig process, string configDirectory, string? pidFile)
    {
        if (process.Options.Has("control_socket"))
        {
            var value = process.Options.GetString("control_socket");
            if (string.IsNullOrEmpty(value) || value == "none")
            {
                return (null, true);
            }
            var full = Path.GetFullPath(value, configDirectory);
            // sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
            if (System.Text.Encoding.UTF8.GetByteCount(full) > 107)
            {
                throw process.Options.Error("control_socket", $"the path '{full}' is longer than a Unix socket path may be (107 bytes)");
            }
            return (full, true);
        }
        if (pidFile is not null)
        {
            return (Path.ChangeExtension(pidFile, ".sock"), false);
        }
        var name = process.Name + ".sock";
        if (OperatingSystem.IsWindows())
        {
            return (null, false);
        }
        if (Posix.EffectiveUserId == 0)
        {
            return (Path.Combine("/run/slimta", name), false);
        }
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtime)
            ? (Path.Combine(Path.GetTempPath(), $"slimta-{Posix.UserId}", name), false)
            : (Path.Combine(runtime, "slimta", name), false);
    }

    /// <summary>The process section to use, like the server resolves it (defaults when the name was not given with -n and is absent).</summary>
    internal static ProcessConfig Resolve(SlimtaConfig config, string name, bool explicitName) =>
        config.Processes.TryGetValue(name, out var process) ? process
        : explicitName ? config.GetProcess(name)
        : new ProcessConfig(name, false, null, null, null, null, null, null, null, LoggingConfig.Default,
            new ComponentOptions(ConfigMap.Empty(ConfigNode.Combine("process", name))));
}
