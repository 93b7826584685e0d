namespace Slimta.Host.Cli;

/// <summary>The options of <c>slimta</c> and <c>slimta-worker</c> (those of the Python original).</summary>
public sealed record CommandLineOptions
{
    /// <summary><c>-c/--config FILE</c>.</summary>
    public string? ConfigFile { get; init; }

    /// <summary><c>--format yaml|toml</c>: overrides the format chosen by the file's extension.</summary>
    public string? Format { get; init; }

    /// <summary><c>-n/--process-name NAME</c>.</summary>
    public string? ProcessName { get; init; }

    /// <summary><c>--no-edge</c>.</summary>
    public bool NoEdge { get; init; }

    /// <summary><c>--no-relay</c>.</summary>
    public bool NoRelay { get; init; }

    /// <summary><c>-a/--attached</c>: stay attached even when the config says daemon.</summary>
    public bool Attached { get; init; }

    /// <summary><c>-d/--daemon</c>: detach from the terminal.</summary>
    public bool Daemon { get; init; }

    /// <summary><c>-p/--pid-file FILE</c>.</summary>
    public string? PidFile { get; init; }

    /// <summary><c>--check</c>: validate the configuration and exit (starts nothing).</summary>
    public bool Check { get; init; }

    /// <summary><c>--version</c>.</summary>
    public bool Version { get; init; }

    /// <summary><c>-h/--help</c>.</summary>
    public bool Help { get; init; }

    /// <summary>Parses arguments; throws <see cref="ArgumentException"/> with a usage message on a bad one.</summary>
    public static CommandLineOptions Parse(IReadOnlyList<string> args)
    {
        var o = new CommandLineOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('='))
            {
                inline = arg[(arg.IndexOf('=') + 1)..];
                arg = arg[..arg.IndexOf('=')];
            }
            else if (arg.Length > 2 && arg[0] == '-' && arg[1] != '-' && "cnp".Contains(arg[1]))
            {
                inline = arg[2..];
                arg = arg[..2];
            }
            string Value()
            {
                if (inline is not null)
                {
                    return inline;
                }
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{arg} needs a value");
                }
                return args[++i];
            }
            o = arg switch
            {
                "-c" or "--config" => o with { ConfigFile = Value() },
                "--format" => o with { Format = Value() },
                "-n" or "--process-name" => o with { ProcessName = Value() },
                "--no-edge" => o with { NoEdge = true },
                "--no-relay" => o with { NoRelay = true },
                "-a" or "--attached" => o with { Attached = true },
                "-d" or "--daemon" => o with { Daemon = true },
                "-p" or "--pid-file" => o with { PidFile = Value() },
                "--check" => o with { Check = true },
                "--version" => o with { Version = true },
                "-h" or "--help" => o with { Help = true },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }
        return o;
    }

    /// <summary>The usage text.</summary>
    public static string Usage(string program) => $"""
        usage: {program} [options]
               {program} queue list|show ID|flush [ID]|hold ID|release ID|delete ID|bounce ID [options]
               {program} setup config DIR [--force]

          -c, --config FILE        configuration file (default: ./slimta.conf, ~/.slimta/slimta.conf,
                                   /etc/slimta/slimta.conf); .toml files are TOML, others YAML
              --format yaml|toml   read the configuration in this format whatever its name
          -n, --process-name NAME  the process.NAME section to use (default: {program})
              --no-edge            open no listeners (deliver only)
              --no-relay           deliver nothing (receive and store only)
          -a, --attached           stay attached to the terminal even if the config says daemon
          -d, --daemon             detach from the terminal and run in the background
          -p, --pid-file FILE      write the process id to FILE
              --check              validate the configuration (as startup and SIGHUP do) and exit
              --version            print the version and exit
          -h, --help               this text

        Signals: SIGTERM/SIGINT drain and stop (process.NAME.shutdown_timeout), SIGHUP reloads
        the configuration. '{program} queue --help' for the queue commands.
        """;
}
