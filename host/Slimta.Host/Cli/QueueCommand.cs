using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Control;
using Slimta.Host.Server;

namespace Slimta.Host.Cli;

/// <summary>
/// <c>slimta queue list | show ID | flush [ID] | delete ID | bounce ID | hold ID | release ID</c>:
/// through the running server's control socket, or — when no server answers, or with
/// <c>--storage</c> — directly on the configured storages (disk and shared storages such as
/// redis; a disk spool locked by a running server and memory queues are refused with the reason).
/// </summary>
public static class QueueCommand
{
    /// <summary>The usage text.</summary>
    public static string Usage(string program) => $"""
        usage: {program} queue COMMAND [options]

          list                     every queued message: queue, id, queued at, next attempt, tries, size, sender, recipients
          show ID                  one message: envelope, state, client and headers (never the body)
          flush [ID]               make one message, or every message waiting for a retry, due now (held ones stay held)
          hold ID                  keep a message from being delivered until it is released (survives restarts)
          release ID               make a held message due now
          delete ID                remove a message without telling its sender
          bounce ID                send the sender a bounce ("deleted by the administrator") and remove the message

          -c, --config FILE        configuration file (as for the server)
          -n, --process-name NAME  the process.NAME section (its control_socket and pid_file)
          -p, --pid-file FILE      the server's pid file (the control socket is next to it by default)
              --queue NAME         only this queue (default: every queue; for an ID, the queue that holds it)
              --socket PATH        the control socket to use (default: process.NAME.control_socket or next to the pid file)
              --storage            work on the storages directly, not through the server (disk: only while no server runs)
              --json               JSON lines (the control protocol's message and result lines) instead of text
          -h, --help               this text

        Exit status: 0 done, 1 refused or failed (the reason is on standard error), 2 configuration error, 64 usage.
        """;

    /// <summary>Runs the command; <paramref name="args"/> are everything but the word <c>queue</c>.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, string program, CancellationToken cancellationToken = default)
    {
        string? configFile = null, format = null, processName = null, pidFile = null, queue = null, socket = null;
        bool json = false, storage = false;
        var positional = new List<string>();
        try
        {
            for (int i = 0; i < args.Count; i++)
            {
                var arg = args[i];
                string? inline = null;
                if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('='))
                {
                    inline = arg[(arg.IndexOf('=') + 1)..];
                    arg = arg[..arg.IndexOf('=')];
                }
                string Value() => inline ?? (i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value"));
                switch (arg)
                {
                    case "-c" or "--config": configFile = Value(); break;
                    case "--format": format = Value(); break;
                    case "-n" or "--process-name": processName = Value(); break;
                    case "-p" or "--pid-file": pidFile = Value(); break;
                    case "--queue": queue = Value(); break;
                    case "--socket": socket = Value(); break;
                    case "--json": json = true; break;
                    case "--storage": storage = true; break;
                    case "-h" or "--help":
                        Console.WriteLine(Usage(program));
                        return 0;
                    default:
                        if (arg.StartsWith('-') && arg.Length > 1)
                        {
                            throw new ArgumentException($"unknown option '{args[i]}'");
                        }
                        positional.Add(arg);
                        break;
                }
            }
            if (positional.Count == 0)
            {
                throw new ArgumentException("which command? list, show, flush, hold, release, delete or bounce");
            }
            var command = positional[0];
            if (!ControlRequest.Commands.Contains(command) || command == "ping")
            {
                throw new ArgumentException($"unknown queue command '{command}'");
            }
            bool needsId = command is not "list" and not "flush";
            if (needsId && positional.Count != 2)
            {
                throw new ArgumentException($"{command} needs one queue id");
            }
            if (!needsId && positional.Count > (command == "flush" ? 2 : 1))
            {
                throw new ArgumentException($"{command}: too many arguments");
            }
            if (storage && socket is not null)
            {
                throw new ArgumentException("--storage and --socket exclude each other");
            }
            var request = new ControlRequest(command, queue, positional.Count > 1 ? positional[1] : null);
            return await RunAsync(request, configFile, format, processName, pidFile, socket, storage, json, program, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"{program}: {e.Message}\n\n{Usage(program)}").ConfigureAwait(false);
            return SlimtaProgram.UsageError;
        }
    }

    private static async Task<int> RunAsync(ControlRequest request, string? configFile, string? format, string? processName, string? pidFileOption, string? socketOption, bool storage, bool json, string program, CancellationToken cancellationToken)
    {
        SlimtaConfig config;
        ProcessConfig process;
        string? socketPath;
        try
        {
            var file = configFile ?? ConfigLoader.FindDefault()
                ?? throw new ConfigException(string.Empty, "no configuration file: give one with -c FILE");
            config = ConfigLoader.LoadFile(file, format);
            process = ProcessSettings.Resolve(config, processName ?? program, processName is not null);
            var pidFile = ProcessSettings.PidFile(process, config.Directory, pidFileOption);
            socketPath = socketOption is not null ? Path.GetFullPath(socketOption) : ProcessSettings.ControlSocket(process, config.Directory, pidFile).Path;
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}").ConfigureAwait(false);
            return SlimtaProgram.ConfigError;
        }

        bool progress = !Console.IsErrorRedirected && (request.Command != "list" || Console.IsOutputRedirected);
        var output = new QueueOutput(Console.Out, Console.Error, json, progress, request.Command, program);

        if (!storage && socketPath is not null)
        {
            ControlClient? client;
            try
            {
                client = await ControlClient.TryConnectAsync(socketPath, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                await Console.Error.WriteLineAsync($"{program}: cannot use the control socket {socketPath}: {e.Message} (run as the server's user or root)").ConfigureAwait(false);
                return 1;
            }
            if (client is not null)
            {
                await using (client)
                {
                    try
                    {
                        await foreach (var line in client.SendAsync(request, cancellationToken).ConfigureAwait(false))
                        {
                            if (line["type"]?.GetValue<string>() == "hello" && socketOption is null
                                && line["config"]?.GetValue<string>() is { } served && served != config.File)
                            {
                                // Two servers with the default socket path: never change the wrong one's mail.
                                await Console.Error.WriteLineAsync($"{program}: the server on {socketPath} runs {served}, not {config.File}; give --socket {socketPath} to use it anyway").ConfigureAwait(false);
                                return 1;
                            }
                            output.Write(line);
                        }
                    }
                    catch (IOException e)
                    {
                        await Console.Error.WriteLineAsync($"{program}: the server closed the control socket: {e.Message}").ConfigureAwait(false);
                        return 1;
                    }
                }
                if (!output.Finished)
                {
                    await Console.Error.WriteLineAsync($"{program}: the server ended the answer early (stopping?); the command may be partly done").ConfigureAwait(false);
                    return 1;
                }
                return output.ExitCode;
            }
            if (socketOption is not null)
            {
                await Console.Error.WriteLineAsync($"{program}: no server answers on {socketOption}").ConfigureAwait(false);
                return 1;
            }
        }

        // Offline: the storages themselves, through engines that are never started.
        if (!storage)
        {
            // A server started with -p FILE has its socket next to FILE, which only the same -p finds.
            var hint = socketPath is not null && pidFileOption is null && process.PidFile is null && !process.Options.Has("control_socket")
                ? " (a server started with -p FILE listens next to FILE: give the same -p, or --socket PATH)"
                : string.Empty;
            await Console.Error.WriteLineAsync($"{program}: no server answers on {socketPath ?? "(control socket turned off)"}{hint}: working on the storages directly").ConfigureAwait(false);
        }
        SlimtaServer server;
        try
        {
            server = SlimtaServer.Build(config, new SlimtaServerOptions
            {
                ProcessName = process.Name,
                ProcessNameExplicit = processName is not null,
                NoEdge = true,
                NoRelay = true,
                Loggers = NullLoggerFactory.Instance,
            });
        }
        catch (ConfigException e) when (e.Message.Contains("in use by another process", StringComparison.Ordinal))
        {
            var where = storage
                ? $"use its control socket (drop --storage{(socketPath is null ? "" : "; " + socketPath)})"
                : $"but nothing answers on {socketPath ?? "a control socket (turned off)"}: give the server's -p FILE, or --socket PATH (its log says 'control socket PATH')";
            await Console.Error.WriteLineAsync($"{program}: {e.Message}\n{program}: a running server holds the disk spool, {where}; or stop it first").ConfigureAwait(false);
            return 1;
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"{program}: configuration error: {e.Message}").ConfigureAwait(false);
            return SlimtaProgram.ConfigError;
        }
        await using (server)
        {
            var admin = server.CreateAdminService(offline: true);
            await admin.ExecuteAsync(request, line => { output.Write(line); return ValueTask.CompletedTask; }, cancellationToken).ConfigureAwait(false);
        }
        return output.ExitCode;
    }

    /// <summary>The <c>hello</c> line a server sends first: who answers (the client checks the configuration file).</summary>
    public static JsonObject Hello(SlimtaConfig config, string processName) => new()
    {
        ["type"] = "hello",
        ["program"] = "slimta",
        ["version"] = SlimtaProgram.Version,
        ["pid"] = Environment.ProcessId,
        ["config"] = config.File,
        ["process"] = processName,
    };
}
