using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Logging;
using Slimta.Host.Server;

namespace Slimta.Host.Cli;

/// <summary>
/// The body of the <c>slimta</c> and <c>slimta-worker</c> executables: parse options, load and
/// validate the configuration (every error stops startup before a port opens), run until SIGTERM
/// or SIGINT, then stop gracefully and exit 0.
/// </summary>
public static class SlimtaProgram
{
    /// <summary>Exit status for a configuration error.</summary>
    public const int ConfigError = 2;

    /// <summary>Exit status for bad command-line usage.</summary>
    public const int UsageError = 64;

    /// <summary>How long a graceful stop may take before in-flight work is abandoned (it stays queued).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs the server (or, with <paramref name="worker"/>, the delivery-only worker).</summary>
    public static async Task<int> RunAsync(string[] args, bool worker)
    {
        string program = worker ? "slimta-worker" : "slimta";
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
        if (process is not null)
        {
            // Dropping privileges is not built yet: refusing is safer than running as root while
            // the operator believes otherwise.
            // Features not built yet are refused, never silently ignored.
            var notYet = new (string Key, bool Set, string Why)[]
            {
                ("user", process.User is not null, "privileges are not dropped; start the process as the user it should run as"),
                ("group", process.Group is not null, "privileges are not dropped; start the process as the user it should run as"),
            };
            foreach (var (key, set, why) in notYet)
            {
                if (set)
                {
                    await Console.Error.WriteLineAsync($"{program}: configuration error: process.{processName}.{key}: not supported yet ({why})");
                    return ConfigError;
                }
            }
            RedirectOutput(process, config.Directory);
        }
        if ((options.Daemon || process?.Daemon == true) && !options.Attached)
        {
            return Detach(args, program);
        }

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
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                await server.StartAsync(stop.Token);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                log.LogCritical("{Program} could not start: {Message}", program, e.Message);
                return 1;
            }
            var pidFile = options.PidFile ?? server.Process.PidFile;
            if (pidFile is not null)
            {
                await File.WriteAllTextAsync(pidFile, Environment.ProcessId + "\n");
            }
            log.LogInformation("{Program} {Version} running (config {Config}, process {Process})", program, Version, config.File, processName);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM or SIGINT: stop gracefully.
            }
            log.LogInformation("{Program} stopping", program);
            using var timeout = new CancellationTokenSource(ShutdownTimeout);
            await server.StopAsync(timeout.Token);
            if (pidFile is not null)
            {
                File.Delete(pidFile);
            }
        }
        return 0;
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

    /// <summary>
    /// Daemon mode: .NET cannot fork, so the program starts itself again in a new session
    /// (<c>setsid</c>) with <c>--attached</c>, detached from the terminal, and exits.
    /// </summary>
    private static int Detach(string[] args, string program)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = false, RedirectStandardError = false };
        psi.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        }
        foreach (var a in args)
        {
            if (a is not "-d" and not "--daemon")
            {
                psi.ArgumentList.Add(a);
            }
        }
        psi.ArgumentList.Add("--attached");
        using var child = Process.Start(psi);
        if (child is null)
        {
            Console.Error.WriteLine($"{program}: could not start the daemon");
            return 1;
        }
        child.StandardInput.Close();
        Console.WriteLine($"{program}: running in the background, pid {child.Id}");
        return 0;
    }
}
