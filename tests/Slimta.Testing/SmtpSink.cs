using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Slimta.Testing;

/// <summary>
/// Postfix's real <c>smtp-sink</c> on 127.0.0.1 and an ephemeral port, dumping every message to a
/// directory of its own (<c>-d DIR/%M.</c>) and printing running counters (<c>-c</c>). Extra
/// switches make it misbehave: <c>-f RCPT</c> rejects (5xx), <c>-r RCPT</c> defers (4xx),
/// <c>-q DATA</c> disconnects, <c>-Q MAIL</c> answers 421, <c>-p</c> turns PIPELINING off,
/// <c>-8</c> turns 8BITMIME off, <c>-L</c> speaks LMTP (see <c>man smtp-sink</c>).
/// Disposing stops the process and deletes the dump directory.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly StringBuilder _output = new();
    private Counters _counters = new(0, 0, 0);
    private readonly Task _stdoutPump;

    private SmtpSink(Process process, int port, string dumpDirectory)
    {
        _process = process;
        Port = port;
        DumpDirectory = dumpDirectory;
        _stdoutPump = PumpAsync();
    }

    /// <summary>The port smtp-sink listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Where smtp-sink writes one file per mail transaction.</summary>
    public string DumpDirectory { get; }

    /// <summary>The latest counters smtp-sink printed (updated when a session ends, on QUIT and on ".").</summary>
    public Counters CurrentCounters
    {
        get
        {
            lock (_lock)
            {
                return _counters;
            }
        }
    }

    /// <summary>What smtp-sink printed so far (counters and errors), for assertion messages.</summary>
    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts smtp-sink with extra switches (placed before the address).</summary>
    public static Task<SmtpSink> StartAsync(params string[] extraArgs) => StartCoreAsync(null, extraArgs);

    /// <summary>Starts smtp-sink on a given port (for a next hop that comes up after mail was queued).</summary>
    public static Task<SmtpSink> StartOnPortAsync(int port, params string[] extraArgs) => StartCoreAsync(port, extraArgs);

    private static async Task<SmtpSink> StartCoreAsync(int? fixedPort, string[] extraArgs)
    {
        var exe = File.Exists("/usr/sbin/smtp-sink") ? "/usr/sbin/smtp-sink" : "smtp-sink";
        Exception? last = null;
        // FreePort hands out a port that another process may grab before smtp-sink binds it; try again then.
        for (int attempt = 0; attempt < (fixedPort is null ? 5 : 1); attempt++)
        {
            var dir = TestPaths.NewTempDir("smtp-sink");
            // smtp-sink drops to 'nobody' before it writes dumps.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
            }
            int port = fixedPort ?? FreePort.Next();
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (Environment.UserName == "root")
            {
                // smtp-sink refuses to run as root without -u.
                psi.ArgumentList.Add("-u");
                psi.ArgumentList.Add("nobody");
            }
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("-d");
            psi.ArgumentList.Add(Path.Combine(dir, "%M."));
            foreach (var arg in extraArgs)
            {
                psi.ArgumentList.Add(arg);
            }
            psi.ArgumentList.Add($"127.0.0.1:{port}");
            psi.ArgumentList.Add("128");
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("smtp-sink did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("smtp-sink is not installed (Debian package 'postfix').", e);
            }
            var sink = new SmtpSink(process, port, dir);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline && !process.HasExited && !IsListening(port))
            {
                await Task.Delay(20).ConfigureAwait(false);
            }
            if (!process.HasExited && IsListening(port))
            {
                return sink;
            }
            last = new InvalidOperationException($"smtp-sink did not listen on 127.0.0.1:{port}: {sink.Output}{await process.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
            await sink.DisposeAsync().ConfigureAwait(false);
        }
        throw last!;
    }

    /// <summary>Every complete message dumped so far, oldest first.</summary>
    public IReadOnlyList<Message> Messages
    {
        get
        {
            var list = new List<(DateTime, Message)>();
            foreach (var file in Directory.EnumerateFiles(DumpDirectory))
            {
                byte[] bytes;
                try
                {
                    bytes = File.ReadAllBytes(file);
                }
                catch (FileNotFoundException)
                {
                    // smtp-sink deletes the dump of a transaction that was cut off (a client killed
                    // mid-DATA) between the listing and the read: not a message.
                    continue;
                }
                // A finished dump ends with the message's last line and one more empty line.
                if (!bytes.AsSpan().EndsWith("\n\n"u8))
                {
                    continue;
                }
                list.Add((File.GetLastWriteTimeUtc(file), Parse(bytes)));
            }
            return list.OrderBy(e => e.Item1).Select(e => e.Item2).ToList();
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages were dumped.</summary>
    public async Task<IReadOnlyList<Message>> WaitForMessagesAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var messages = Messages;
            if (messages.Count >= count || DateTime.UtcNow > deadline)
            {
                return messages;
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the counters satisfy <paramref name="condition"/> (or the timeout passes) and returns them.</summary>
    public async Task<Counters> WaitForCountersAsync(Func<Counters, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition(CurrentCounters) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
        return CurrentCounters;
    }

    /// <summary>Stops smtp-sink and deletes the dump directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
            await _process.WaitForExitAsync().ConfigureAwait(false);
            await _stdoutPump.ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(DumpDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Parses one dump file: smtp-sink's X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args,
    /// X-Rcpt-Args and a three-line Received header, then the message as received (already
    /// dot-unstuffed, line ends written as LF), then one empty line.
    /// </summary>
    public static Message Parse(byte[] dump)
    {
        string? addr = null, proto = null, helo = null, mail = null;
        var rcpts = new List<string>();
        int pos = 0;
        bool inReceived = false;
        while (pos < dump.Length)
        {
            int nl = Array.IndexOf(dump, (byte)'\n', pos);
            if (nl < 0)
            {
                break;
            }
            var line = Encoding.UTF8.GetString(dump, pos, nl - pos);
            if (inReceived)
            {
                if (!line.StartsWith('\t'))
                {
                    break;
                }
            }
            else if (line.StartsWith("Received: ", StringComparison.Ordinal))
            {
                inReceived = true;
            }
            else
            {
                int colon = line.IndexOf(": ", StringComparison.Ordinal);
                var value = colon < 0 ? string.Empty : line[(colon + 2)..];
                switch (colon < 0 ? line : line[..colon])
                {
                    case "X-Client-Addr": addr = value; break;
                    case "X-Client-Proto": proto = value; break;
                    case "X-Helo-Args": helo = value; break;
                    case "X-Mail-Args": mail = value; break;
                    case "X-Rcpt-Args": rcpts.Add(value); break;
                    default: throw new FormatException($"unexpected line in smtp-sink dump: {line}");
                }
            }
            pos = nl + 1;
        }
        // The rest is the message plus smtp-sink's closing empty line. smtp-sink writes each line
        // with LF; on the wire it was CRLF, so put the CRs back.
        var body = dump.AsSpan(pos, Math.Max(0, dump.Length - pos - 1));
        var data = new MemoryStream(body.Length + body.Length / 20);
        foreach (var b in body)
        {
            if (b == (byte)'\n')
            {
                data.WriteByte((byte)'\r');
            }
            data.WriteByte(b);
        }
        return new Message(addr ?? string.Empty, proto ?? string.Empty, helo, mail ?? string.Empty, rcpts, data.ToArray());
    }

    // Reading /proc/net/tcp avoids a probe session that smtp-sink would count.
    private static bool IsListening(int port) => ProcNet.IsListening("/proc/net/tcp", port, udp: false);

    private async Task PumpAsync()
    {
        var buffer = new char[1024];
        var reader = _process.StandardOutput;
        var line = new StringBuilder();
        while (true)
        {
            int n = await reader.ReadAsync(buffer).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }
            lock (_lock)
            {
                _output.Append(buffer, 0, n);
                for (int i = 0; i < n; i++)
                {
                    // Counters are rewritten in place with CR: "sess=1 quit=1 mesg=2\r".
                    if (buffer[i] is '\r' or '\n')
                    {
                        if (TryParseCounters(line.ToString(), out var c))
                        {
                            _counters = c;
                        }
                        line.Clear();
                    }
                    else
                    {
                        line.Append(buffer[i]);
                    }
                }
            }
        }
    }

    private static bool TryParseCounters(string text, out Counters counters)
    {
        int sess = -1, quit = -1, mesg = -1;
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            {
                continue;
            }
            switch (kv[0])
            {
                case "sess": sess = v; break;
                case "quit": quit = v; break;
                case "mesg": mesg = v; break;
            }
        }
        counters = new Counters(sess, quit, mesg);
        return sess >= 0 && quit >= 0 && mesg >= 0;
    }

    /// <summary>smtp-sink's running counters.</summary>
    /// <param name="Sessions">Sessions that ended.</param>
    /// <param name="Quits">QUIT commands received.</param>
    /// <param name="Messages">Messages received (final ".").</param>
    public sealed record Counters(int Sessions, int Quits, int Messages);

    /// <summary>One mail transaction as smtp-sink dumped it.</summary>
    /// <param name="ClientAddress">X-Client-Addr.</param>
    /// <param name="Protocol">X-Client-Proto: SMTP, ESMTP or LMTP.</param>
    /// <param name="HeloArgs">X-Helo-Args: the EHLO/HELO/LHLO argument, when given.</param>
    /// <param name="MailArgs">X-Mail-Args: everything after <c>MAIL FROM:</c>, e.g. <c>&lt;a@b&gt; SIZE=12</c>.</param>
    /// <param name="RcptArgs">X-Rcpt-Args for each RCPT, in order.</param>
    /// <param name="Data">The message bytes as received (dot-unstuffed), with CRLF line ends.</param>
    public sealed record Message(string ClientAddress, string Protocol, string? HeloArgs, string MailArgs, IReadOnlyList<string> RcptArgs, byte[] Data)
    {
        /// <summary>The reverse-path without brackets (from <see cref="MailArgs"/>).</summary>
        public string Sender => Unbracket(MailArgs);

        /// <summary>The forward-paths without brackets (from <see cref="RcptArgs"/>).</summary>
        public IReadOnlyList<string> Recipients => RcptArgs.Select(Unbracket).ToList();

        /// <summary>The MAIL parameters after the address (<c>SIZE=12 BODY=8BITMIME</c>), or empty.</summary>
        public string MailParameters
        {
            get
            {
                int close = MailArgs.IndexOf('>');
                return close < 0 ? string.Empty : MailArgs[(close + 1)..].Trim();
            }
        }

        private static string Unbracket(string args)
        {
            var text = args.Trim();
            int close = text.IndexOf('>');
            return text.StartsWith('<') && close > 0 ? text[1..close] : text.Split(' ')[0];
        }
    }
}
