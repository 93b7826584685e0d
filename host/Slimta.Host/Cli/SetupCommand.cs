namespace Slimta.Host.Cli;

/// <summary>
/// <c>slimta setup config DIR [--force]</c>: writes a commented sample <c>slimta.conf</c> into DIR
/// (created when missing). It refers to no other file: its spool and mail directories are created
/// by the server on first start (relative to DIR). An existing file is never overwritten without
/// <c>--force</c>.
/// </summary>
public static class SetupCommand
{
    /// <summary>The usage text.</summary>
    public static string Usage(string program) => $"""
        usage: {program} setup config DIR [--force]

          writes DIR/slimta.conf, a commented sample configuration that runs as it is
          (mail for example.test on 127.0.0.1:2525, disk queue, Maildir delivery under DIR)

              --force              overwrite an existing DIR/slimta.conf
          -h, --help               this text
        """;

    /// <summary>Runs the command; <paramref name="args"/> are everything but the word <c>setup</c>.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, string program)
    {
        bool force = false;
        var positional = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "-c" or "--config" or "--format" or "-n" or "--process-name" or "-p" or "--pid-file":
                    // The server's options (./slimta adds -c for the embedded default): not used here.
                    i++;
                    break;
                case "--force":
                    force = true;
                    break;
                case "-h" or "--help":
                    Console.WriteLine(Usage(program));
                    return 0;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1)
                    {
                        await Console.Error.WriteLineAsync($"{program}: unknown option '{arg}'\n\n{Usage(program)}").ConfigureAwait(false);
                        return SlimtaProgram.UsageError;
                    }
                    positional.Add(arg);
                    break;
            }
        }
        if (positional.Count != 2 || positional[0] != "config")
        {
            await Console.Error.WriteLineAsync($"{program}: setup needs 'config DIR'\n\n{Usage(program)}").ConfigureAwait(false);
            return SlimtaProgram.UsageError;
        }
        var dir = Path.GetFullPath(positional[1]);
        var file = Path.Combine(dir, "slimta.conf");
        try
        {
            Directory.CreateDirectory(dir);
            if (File.Exists(file) && !force)
            {
                await Console.Error.WriteLineAsync($"{program}: {file} exists; give --force to overwrite it").ConfigureAwait(false);
                return 1;
            }
            // Written under a temporary name and renamed: never a half-written configuration.
            var temp = file + ".tmp";
            await File.WriteAllTextAsync(temp, SampleConfig).ConfigureAwait(false);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"{program}: cannot write {file}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        Console.WriteLine($"wrote {file}");
        Console.WriteLine($"check it with: {program} -c {file} --check");
        return 0;
    }

    /// <summary>The sample: every process key, one edge, a disk queue and a Maildir relay, commented.</summary>
    public const string SampleConfig = """
        # slimta.conf — written by `slimta setup config`. Every key is described in
        # docs/configuration.md; running in production in docs/operations.md.
        # Relative paths are relative to this file's directory.
        #
        # As written it runs without root and without other services: mail for example.test is
        # accepted on 127.0.0.1:2525, queued on disk in ./spool and delivered into
        # ./mail/<localpart>/new/ (Maildir). Other recipient domains are refused (550 5.7.1).
        #
        #   slimta -c slimta.conf --check      # validate, start nothing
        #   slimta -c slimta.conf              # run in the foreground (SIGTERM stops, SIGHUP reloads)
        #   slimta -c slimta.conf queue list   # what is queued (through the control socket)

        process:
          slimta:
            # daemon: false                # true: run in the background (like -d); -a keeps it attached
            # pid_file: /run/slimta/slimta.pid
            # control_socket: /run/slimta/slimta.sock   # default: next to pid_file; "" turns it off
            # shutdown_timeout: 30         # seconds SIGTERM waits for sessions and deliveries
            # user: slimta                 # started as root: switch to this user after binding ports
            # group: slimta
            # stdout: /var/log/slimta/slimta.log   # append standard output (the log) to a file
            # stderr: /var/log/slimta/slimta.err
            # hostname: mail               # this host's names (default: the machine's)
            # fqdn: mail.example.com
            logging:
              level: information           # trace, debug, information, warning, error, critical
              format: text                 # or json
          slimta-worker:
            logging:
              level: information

        edge:
          inbound:
            type: smtp
            queue: inbound
            listener:
              interface: 127.0.0.1         # 0.0.0.0 and port 25 for the internet (needs root or CAP_NET_BIND_SERVICE)
              port: 2525
            max_size: 10485760
            # tls:                         # STARTTLS
            #   certfile: /etc/letsencrypt/live/mail.example.com/fullchain.pem
            #   keyfile: /etc/letsencrypt/live/mail.example.com/privkey.pem
            rules:
              banner: "{fqdn} ESMTP Slimta"
              only_recipients:             # who we accept mail for: never leave an edge open
                - "@example.test"

        queue:
          inbound:
            type: disk                     # durable; memory loses mail on stop, redis is shared by workers
            relay: local
            envelope_dir: spool/envelope
            meta_dir: spool/meta
            create_dirs: true
            policies:
              - type: add_date_header
              - type: add_message_id_header
              - type: add_received_header
            retry:
              delay: "min(60*pow(2, x), 3600)"   # seconds before retry x+1
              maximum: 10                  # then the message bounces

        relay:
          local:
            type: maildir
            path: mail
          # out:                           # to the internet through MX records
          #   type: mx
        """;
}
