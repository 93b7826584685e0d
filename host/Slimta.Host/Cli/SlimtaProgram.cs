using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Control;
using Slimta.Host.Logging;
using Slimta.Host.Server;

namespace Slimta.Host.Cli;

/// <summary>
/// The body of the <c>slimta</c> and <c>slimta-worker</c> executables: parse options, load and
/// validate the configuration (every error stops startup before a port opens), run until SIGTERM
/// or SIGINT, then drain and exit 0; SIGHUP reloads the configuration. Also the subcommands
/// <c>queue …</c> (<see cref="QueueCommand"/>) and <c>setup config DIR</c> (<see cref="SetupCommand"/>).
/// </summary>
public static class SlimtaProgram
{
    /// <summary>Exit status for a configuration error.</summary>
    public const int ConfigError = 2;

    /// <summary>Exit status for bad command-line usage.</summary>
    public const int UsageError = 64;

    /// <summary>How long a graceful stop may take by default before in-flight work is abandoned (it stays queued); <c>process.NAME.shutdown_timeout</c>.</summary>
    public static readonly TimeSpan ShutdownTimeout = ProcessSettings.DefaultShutdownTimeout;

    /// <summary>Option words that take a value (to find a subcommand after them).</summary>
    private static readonly HashSet<string> ValueOptions = new(StringComparer.Ordinal) { "-c", "--config", "--format", "-n", "--process-name", "-p", "--pid-file" };

    /// <summary>Runs the server (or, with <paramref name="worker"/>, the delivery-only worker).</summary>
    public static async Task<int> RunAsync(string[] args, bool worker)
    {
        string program = worker ? "slimta-worker" : "slimta";
        InlineSocketCompletions();
        if (FindSubcommand(args) is { } sub)
        {
            var rest = args.Where((_, i) => i != sub.Index).ToList();
            return sub.Name == "queue"
                ? await QueueCommand.RunAsync(rest, program)
                : await SetupCommand.RunAsync(rest, program);
        }
        CommandLineOptions options;
        try
        {
            options = CommandLineOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"{program}: {e.Message}\n\n{CommandLineOptions.Usage(program)}");
            return UsageError;
        }
        if (options.Help)
        {
            Console.WriteLine(CommandLineOptions.Usage(program));
            return 0;
        }
        if (options.Version)
        {
            Console.WriteLine($"{program} {Version}");
            return 0;
        }

        SlimtaConfig config;
        try
        {
            var file = options.ConfigFile ?? ConfigLoader.FindDefault()
                ?? throw new ConfigException(string.Empty, "no configuration file: give one with -c FILE, or create ./slimta.conf, ~/.slimta/slimta.conf or /etc/slimta/slimta.conf");
            config = ConfigLoader.LoadFile(file, options.Format);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}");
            return ConfigError;
        }

        var processName = options.ProcessName ?? program;
        var process = config.Processes.GetValueOrDefault(processName);
        if (options.Check)
        {
            return await CheckAsync(config, processName, options.ProcessName is not null, program);
        }
        if ((options.Daemon || process?.Daemon == true) && !options.Attached)
        {
            return await Daemon.DetachAsync(args, program);
        }
        if (process is not null)
        {
            RedirectOutput(process, config.Directory);
        }

        // Settings the executable itself reads; all checked before anything starts.
        var settings = ProcessSettings.Resolve(config, processName, options.ProcessName is not null);
        Privileges? privileges;
        TimeSpan shutdownTimeout;
        string? pidPath;
        (string? Path, bool Explicit) controlSocket;
        try
        {
            privileges = Privileges.Resolve(settings);
            shutdownTimeout = ProcessSettings.ShutdownTimeout(settings);
            pidPath = ProcessSettings.PidFile(settings, config.Directory, options.PidFile);
            controlSocket = ProcessSettings.ControlSocket(settings, config.Directory, pidPath);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}");
            return ConfigError;
        }
        if (pidPath is not null)
        {
            try
            {
                // Before any port opens: a second copy stops here, not with "address in use".
                PidFile.CheckNotRunning(pidPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"{program}: {e.Message}");
                return 1;
            }
        }
        PidFile? pidFile = null;

        SlimtaLoggerFactory loggers;
        try
        {
            // process.NAME.logging: text or JSON lines to stdout, stderr or a file (Reopen after rotation).
            loggers = SlimtaLogging.Create(process?.Logging ?? LoggingConfig.Default, $"process.{processName}.logging");
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}");
            return ConfigError;
        }
        using var loggerLifetime = loggers;
        var log = loggers.CreateLogger(program);
        SlimtaServer server;
        try
        {
            server = SlimtaServer.Build(config, new SlimtaServerOptions
            {
                ProcessName = processName,
                ProcessNameExplicit = options.ProcessName is not null,
                NoEdge = options.NoEdge || worker,
                NoRelay = options.NoRelay,
                Loggers = loggers,
            });
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}");
            return ConfigError;
        }

        await using (server)
        {
            using var stop = new CancellationTokenSource();
            using var grace = new CancellationTokenSource();
            var reloads = new SemaphoreSlim(0, 1);
            void Stop(PosixSignalContext c)
            {
                c.Cancel = true;
                if (stop.IsCancellationRequested)
                {
                    // A second SIGTERM/SIGINT while draining: stop waiting for sessions and attempts.
                    grace.Cancel();
                }
                stop.Cancel();
            }
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
            {
                c.Cancel = true;
                if (reloads.CurrentCount == 0)
                {
                    reloads.Release();
                }
            });
            ControlServer? control = null;
            try
            {
                // Listeners (ports below 1024 need root) and the metrics endpoint open first; the
                // queues start and edges accept only after the switch to process.NAME.user below,
                // so no message is ever stored or delivered as root.
                server.BindListeners();
                if (controlSocket.Path is { } socketPath)
                {
                    try
                    {
                        control = ControlServer.Start(socketPath, server.CreateAdminService(offline: false), QueueCommand.Hello(config, processName), loggers.CreateLogger("slimta.control"));
                        // Where 'slimta queue' must look (-p moves it): said once, so it can be found.
                        log.LogInformation("control socket {Path}", socketPath);
                    }
                    catch (Exception e) when (!controlSocket.Explicit && e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
                    {
                        // The default place is best effort (another server may use it); a configured one is not.
                        log.LogWarning("no control socket ({Message}); set process.{Process}.control_socket for 'slimta queue'", e.Message, processName);
                    }
                }
                if (pidPath is not null)
                {
                    // Written once the listeners are open (connections wait in their backlogs until
                    // the queues have loaded and the edges accept).
                    pidFile = PidFile.Create(pidPath);
                }
                if (privileges is not null)
                {
                    // After binding (ports below 1024) and before any mail is handled by us as root.
                    control?.ChangeOwner(privileges.Uid, privileges.Gid);
                    pidFile?.ChangeOwner(privileges.Uid, privileges.Gid);
                    // The notify socket (-d's parent, systemd) may be writable by root only.
                    SdNotify.Connect();
                    privileges.Drop();
                    log.LogInformation("running as uid {Uid} gid {Gid}", privileges.Uid, privileges.Gid);
                    var who = $"{privileges.User ?? "uid " + privileges.Uid} (uid {privileges.Uid} gid {privileges.Gid})";
                    WritableDirectories.Check(config, who, $"{privileges.User ?? privileges.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)}:{privileges.Gid}");
                    foreach (var file in new[] { pidFile?.FilePath, control?.SocketPath })
                    {
                        if (file is not null && Path.GetDirectoryName(file) is { } fileDir && !Posix.CanWriteDirectory(fileDir))
                        {
                            log.LogWarning("{File} will be left behind at exit: its directory {Directory} is not writable by {User} (harmless: the next start replaces it; give the directory to that user to avoid it)", file, fileDir, who);
                        }
                    }
                    if (loggers.Provider.Output.Path is { } logFile && Path.GetDirectoryName(Path.GetFullPath(logFile)) is { } logDir && !Posix.CanWriteDirectory(logDir))
                    {
                        log.LogWarning("process.{Process}.logging.target: the directory {Directory} is not writable by {User}: after log rotation SIGHUP cannot create a new {File} and the server keeps writing to the moved file; give the directory to that user, or rotate with copytruncate", processName, logDir, who, logFile);
                    }
                }
                await server.StartAsync(stop.Token);
            }
            catch (ConfigException e)
            {
                // Found once running as the unprivileged user (a spool it cannot write): stop before any mail.
                await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}");
                if (loggers.Provider.Output.Path is not null)
                {
                    log.LogCritical("{Program} could not start: configuration error: {Message}", program, e.Message);
                }
                if (control is not null)
                {
                    await control.DisposeAsync();
                }
                await server.StopAsync(CancellationToken.None);
                pidFile?.Dispose();
                return ConfigError;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                // Standard error like every other startup error (exit 1: a port in use, …); the
                // log too when it is a file, where an operator of a daemon looks.
                await Console.Error.WriteLineAsync($"{program}: could not start: {e.Message}");
                if (loggers.Provider.Output.Path is not null)
                {
                    log.LogCritical("{Program} could not start: {Message}", program, e.Message);
                }
                if (control is not null)
                {
                    await control.DisposeAsync();
                }
                pidFile?.Dispose();
                return 1;
            }
            log.LogInformation("{Program} {Version} running (config {Config}, process {Process})", program, Version, config.File, processName);
            SdNotify.Send($"READY=1\nMAINPID={Environment.ProcessId}");
            if (Daemon.IsChild)
            {
                Daemon.LeaveTerminal(settings.Stdout is not null, settings.Stderr is not null);
            }

            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await reloads.WaitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                // SIGHUP also reopens a file log target, so logrotate can move it without copytruncate.
                loggers.Reopen();
                await ReloadAsync(server, config.File, options.Format, log);
            }

            // SIGTERM or SIGINT: drain. Listeners close first, then sessions and attempts get the grace.
            SdNotify.Send("STOPPING=1");
            log.LogInformation("{Program} stopping: draining for at most {Timeout} s", program, shutdownTimeout.TotalSeconds);
            grace.CancelAfter(shutdownTimeout);
            if (control is not null)
            {
                await control.DisposeAsync();
            }
            await server.StopAsync(grace.Token);
            log.LogInformation("{Program} stopped", program);
            pidFile?.Dispose();
        }
        return 0;
    }

    /// <summary>SIGHUP: load and validate the file again; apply what can change, report the rest; a bad file changes nothing.</summary>
    private static async Task ReloadAsync(SlimtaServer server, string file, string? format, ILogger log)
    {
        SdNotify.Send("RELOADING=1");
        try
        {
            var next = ConfigLoader.LoadFile(file, format);
            var report = await server.ReloadAsync(next, CancellationToken.None);
            if (report.NoChange)
            {
                log.LogInformation("reload: no change in {File}", file);
            }
            else
            {
                log.LogInformation("reload: applied {Applied}", report.Applied.Count == 0 ? "nothing" : string.Join(", ", report.Applied));
                foreach (var item in report.RestartNeeded)
                {
                    log.LogWarning("reload: restart needed, not applied: {Item}", item);
                }
            }
        }
        catch (ConfigException e)
        {
            log.LogError("reload failed, the running configuration stays: configuration error: {Message}", e.Message);
        }
        catch (Exception e)
        {
            log.LogError(e, "reload failed, the running configuration stays");
        }
        finally
        {
            SdNotify.Send("READY=1");
        }
    }

    /// <summary><c>--check</c>: validate as startup does, without opening or locking anything.</summary>
    private static async Task<int> CheckAsync(SlimtaConfig config, string processName, bool explicitName, string program)
    {
        try
        {
            SlimtaServer.Validate(config, new SlimtaServerOptions { ProcessName = processName, ProcessNameExplicit = explicitName });
            var settings = ProcessSettings.Resolve(config, processName, explicitName);
            Privileges.Resolve(settings);
            ProcessSettings.ShutdownTimeout(settings);
            ProcessSettings.ControlSocket(settings, config.Directory, ProcessSettings.PidFile(settings, config.Directory, null));
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}");
            return ConfigError;
        }
        Console.WriteLine($"{program}: configuration {config.File} is valid");
        return 0;
    }

    /// <summary>The subcommand word (<c>queue</c>, <c>setup</c>) and its index: the first argument that is not an option or an option's value.</summary>
    private static (string Name, int Index)? FindSubcommand(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (ValueOptions.Contains(args[i]))
            {
                i++;
                continue;
            }
            if (!args[i].StartsWith('-'))
            {
                return args[i] is "queue" or "setup" ? (args[i], i) : null;
            }
        }
        return null;
    }

    /// <summary>
    /// Runs socket continuations on the socket engine's own threads (one per core) instead of
    /// queueing each to the thread pool: an SMTP message is a dozen small reads and writes on two
    /// connections, and every hop to the pool is a context switch. Measured with
    /// <c>bench/run.sh quick memory</c> (docs/benchmarks.md): 15–25 % more messages per second and
    /// less CPU per message for the memory and proxy queues, no change for the disk queue. Safe here
    /// because nothing after a socket await blocks for long: fsyncs run on dedicated threads (the
    /// disk queue's and the maildir relay's <c>BlockingWorkers</c>), and programs and DNS are awaited. The runtime reads the variable once, when the
    /// first socket is used, so it must be set before any socket exists. An operator's own value
    /// (<c>0</c> turns it off, e.g. for a plugin that blocks) is kept.
    /// </summary>
    private static void InlineSocketCompletions()
    {
        const string Name = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(Name) is null)
        {
            Environment.SetEnvironmentVariable(Name, "1");
        }
    }

    /// <summary>The product version.</summary>
    public static string Version =>
        typeof(SlimtaProgram).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary><c>stdout</c>/<c>stderr</c>: append the process's output to files (relative to the config file), before logging starts.</summary>
    private static void RedirectOutput(ProcessConfig process, string configDirectory)
    {
        if (process.Stdout is { } stdout)
        {
            Console.SetOut(new StreamWriter(new FileStream(Path.GetFullPath(stdout, configDirectory), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true });
        }
        if (process.Stderr is { } stderr)
        {
            Console.SetError(new StreamWriter(new FileStream(Path.GetFullPath(stderr, configDirectory), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true });
        }
    }
}
