using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// The executable as an operator runs it: SIGHUP reload with good and bad configurations while
/// mail flows, SIGTERM draining a burst on the disk queue, daemon mode with its pid file,
/// dropping root, and <c>slimta setup config</c>.
/// </summary>
public sealed class OperationsTests
{
    private static string Dll => Path.Combine(TestPaths.Bin, "slimta", "slimta.dll");

    /// <summary>A running slimta with its output kept, its pid known.</summary>
    private sealed class Running : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();

        public Running(string config, params string[] extra)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Dll);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(config);
            foreach (var a in extra)
            {
                psi.ArgumentList.Add(a);
            }
            Process = Process.Start(psi)!;
            Process.OutputDataReceived += (_, e) => Keep(e.Data);
            Process.ErrorDataReceived += (_, e) => Keep(e.Data);
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public void Signal(string name) => Process.Start("kill", [$"-{name}", Process.Id.ToString()])!.WaitForExit();

        public async Task WaitOutputAsync(string text, int occurrences = 1)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Count(Output, text) < occurrences)
            {
                if (DateTime.UtcNow > deadline || Process.HasExited)
                {
                    throw new TimeoutException($"no '{text}' in the output: {Output}");
                }
                await Task.Delay(50);
            }
        }

        public async Task<int> WaitExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            await Process.WaitForExitAsync(cts.Token);
            return Process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
            await Process.WaitForExitAsync();
            Process.Dispose();
        }

        private static int Count(string text, string what)
        {
            int n = 0, at = 0;
            while ((at = text.IndexOf(what, at, StringComparison.Ordinal)) >= 0)
            {
                n++;
                at += what.Length;
            }
            return n;
        }

        private void Keep(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }

    private static async Task WaitListeningAsync(int port, Running process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline && !process.Process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Sends one message in its own session; true when it got 250.</summary>
    private static async Task<bool> TrySendAsync(int port, string subject)
    {
        try
        {
            await using var smtp = await RawSmtp.ConnectAsync(port);
            if (!(await smtp.ReplyAsync()).StartsWith("220", StringComparison.Ordinal))
            {
                return false;
            }
            await smtp.CommandAsync("EHLO ops.test");
            await smtp.CommandAsync("MAIL FROM:<a@ops.test>");
            if (!(await smtp.CommandAsync("RCPT TO:<b@remote.test>")).StartsWith("250", StringComparison.Ordinal))
            {
                return false;
            }
            if (!(await smtp.CommandAsync("DATA")).StartsWith("354", StringComparison.Ordinal))
            {
                return false;
            }
            return (await smtp.CommandAsync($"Subject: {subject}\r\n\r\nbody\r\n.")).StartsWith("250", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static string SubjectOf(SmtpSink.Message m)
    {
        var text = Encoding.UTF8.GetString(m.Data);
        var line = text.Split("\r\n").First(l => l.StartsWith("Subject: ", StringComparison.Ordinal));
        return line["Subject: ".Length..];
    }

    private static async Task<HashSet<string>> WaitSubjectsAsync(IEnumerable<SmtpSink> sinks, IReadOnlyCollection<string> expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var seen = sinks.SelectMany(s => s.Messages).Select(SubjectOf).ToHashSet();
            if (expected.All(seen.Contains) || DateTime.UtcNow > deadline)
            {
                return seen;
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Sighup_GoodThenBadConfigWhileMailFlows_AppliesTheGoodKeepsRunningOnTheBad()
    {
        await using var sinkA = await SmtpSink.StartAsync();
        await using var sinkB = await SmtpSink.StartAsync();
        var dir = TestPaths.NewTempDir("slimta-ops");
        var config = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        string Yaml(int sinkPort) => $$$"""
            process: {slimta: {control_socket: ctl.sock}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: memory, relay: out, retry: {delay: "1", maximum: 20}}
            relay:
              out: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}}
            """;
        await File.WriteAllTextAsync(config, Yaml(sinkA.Port));
        await using var slimta = new Running(config);
        await WaitListeningAsync(port, slimta);

        // Mail flows the whole time: one sender in a loop.
        var accepted = new ConcurrentBag<string>();
        using var stopSending = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            for (int i = 0; !stopSending.IsCancellationRequested; i++)
            {
                if (await TrySendAsync(port, $"flow {i}"))
                {
                    accepted.Add($"flow {i}");
                }
            }
        });
        await sinkA.WaitForMessagesAsync(5);

        // A good new configuration: the relay now goes to sink B.
        await File.WriteAllTextAsync(config, Yaml(sinkB.Port));
        slimta.Signal("HUP");
        await slimta.WaitOutputAsync("reload: applied relay.out");
        int acceptedAtReload = accepted.Count;
        await sinkB.WaitForMessagesAsync(5);

        // A bad one: reported, nothing changes, mail still goes to B.
        await File.WriteAllTextAsync(config, Yaml(sinkB.Port).Replace("retry: {delay: \"1\"", "retry: {delay: \"1*\"", StringComparison.Ordinal));
        slimta.Signal("HUP");
        await slimta.WaitOutputAsync("reload failed, the running configuration stays");
        Assert.Contains("queue.q.retry.delay", slimta.Output);
        int atBad = sinkB.Messages.Count;
        await sinkB.WaitForMessagesAsync(atBad + 5);
        Assert.False(slimta.Process.HasExited);

        await stopSending.CancelAsync();
        await sender;
        var seen = await WaitSubjectsAsync([sinkA, sinkB], accepted.ToList());
        Assert.All(accepted, s => Assert.Contains(s, seen));
        Assert.True(acceptedAtReload > 0 && accepted.Count > acceptedAtReload);

        slimta.Signal("TERM");
        Assert.Equal(0, await slimta.WaitExitAsync(TimeSpan.FromSeconds(40)));
    }

    [Fact]
    public async Task Sigterm_DuringBurstOnDiskQueue_ExitsZeroInTimeAndLosesNothing()
    {
        // The next hop answers DATA after a second, so attempts are in flight at SIGTERM.
        await using var sink = await SmtpSink.StartAsync("-w", "1");
        var dir = TestPaths.NewTempDir("slimta-ops");
        var config = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        await File.WriteAllTextAsync(config, $$$"""
            process: {slimta: {control_socket: ctl.sock, shutdown_timeout: 3}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: disk, relay: out, envelope_dir: spool/env, meta_dir: spool/meta, create_dirs: true, retry: {delay: "1", maximum: 20}}
            relay:
              out: {type: static, host: 127.0.0.1, port: {{{sink.Port}}}}
            """);
        var accepted = new ConcurrentBag<string>();
        await using (var slimta = new Running(config))
        {
            await WaitListeningAsync(port, slimta);
            var senders = Enumerable.Range(0, 4).Select(s => Task.Run(async () =>
            {
                for (int i = 0; i < 40; i++)
                {
                    if (await TrySendAsync(port, $"burst {s}-{i}"))
                    {
                        accepted.Add($"burst {s}-{i}");
                    }
                    else if (slimta.Process.HasExited || i > 0)
                    {
                        // Refused (421) or closed: the server is draining.
                        break;
                    }
                }
            })).ToList();
            while (accepted.Count < 30)
            {
                await Task.Delay(20);
            }
            var stopwatch = Stopwatch.StartNew();
            slimta.Signal("TERM");
            Assert.Equal(0, await slimta.WaitExitAsync(TimeSpan.FromSeconds(30)));
            stopwatch.Stop();
            // shutdown_timeout 3 s for sessions and attempts; startup of nothing else to wait for.
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"took {stopwatch.Elapsed}");
            await Task.WhenAll(senders);
            Assert.Contains("draining for at most 3 s", slimta.Output);
        }

        var delivered = sink.Messages.Select(SubjectOf).ToHashSet();
        int spooled = Directory.GetFiles(Path.Combine(dir, "spool", "env"), "*.env").Length;
        Assert.True(delivered.Count + spooled >= accepted.Count, $"accepted {accepted.Count}, delivered {delivered.Count}, spooled {spooled}");

        // The next start delivers what the drain left in the spool: every accepted message arrives.
        await using (var again = new Running(config))
        {
            var seen = await WaitSubjectsAsync([sink], accepted.ToList());
            Assert.All(accepted, s => Assert.Contains(s, seen));
            again.Signal("TERM");
            Assert.Equal(0, await again.WaitExitAsync(TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public async Task Daemon_WithPidFile_DetachesRefusesASecondCopyAndCleansUp()
    {
        var dir = TestPaths.NewTempDir("slimta-ops");
        var config = Path.Combine(dir, "slimta.conf");
        var pidFile = Path.Combine(dir, "slimta.pid");
        int port = FreePort.Next();
        await File.WriteAllTextAsync(config, $$$"""
            process: {slimta: {stdout: out.log}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: memory, relay: r}
            relay:
              r: {type: blackhole}
            """);
        var (exit, stdout, stderr) = await AdminServer.RunAsync("-c", config, "-d", "-p", pidFile);
        Assert.True(exit == 0, stderr);
        Assert.Contains("running in the background, pid", stdout);
        int pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            Assert.Contains($"pid {pid}", stdout);
            Assert.True(Directory.Exists($"/proc/{pid}"));
            using (var probe = new System.Net.Sockets.TcpClient())
            {
                await probe.ConnectAsync("127.0.0.1", port);
            }
            // The control socket sits next to the pid file by default.
            Assert.True(File.Exists(Path.Combine(dir, "slimta.sock")));

            (exit, _, stderr) = await AdminServer.RunAsync("-c", config, "-p", pidFile);
            Assert.Equal(1, exit);
            Assert.Contains($"already running with pid {pid}", stderr);

            Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((File.Exists(pidFile) || Directory.Exists($"/proc/{pid}")) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            Assert.False(File.Exists(pidFile));
            Assert.False(File.Exists(Path.Combine(dir, "slimta.sock")));
            Assert.Contains("running (config", await File.ReadAllTextAsync(Path.Combine(dir, "out.log")));
        }
        finally
        {
            if (Directory.Exists($"/proc/{pid}"))
            {
                Process.GetProcessById(pid).Kill();
            }
        }

        // A stale pid file (its process is gone) is replaced.
        await File.WriteAllTextAsync(pidFile, "999999\n");
        await using var again = new Running(config, "-p", pidFile);
        await WaitListeningAsync(port, again);
        // The pid file is written once the server runs.
        var until = DateTime.UtcNow.AddSeconds(30);
        while ((File.Exists(pidFile) ? await File.ReadAllTextAsync(pidFile) : "") != $"{again.Process.Id}\n" && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }
        Assert.Equal($"{again.Process.Id}\n", await File.ReadAllTextAsync(pidFile));
        again.Signal("TERM");
        Assert.Equal(0, await again.WaitExitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(pidFile));
    }

    [Fact]
    public async Task PrivilegeDrop_UserNobody_RunsAsNobodyAfterBinding()
    {
        var dir = TestPaths.NewTempDir("slimta-ops");
        // The pid file and control socket are removed at exit by the unprivileged user.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        }
        var config = Path.Combine(dir, "slimta.conf");
        var pidFile = Path.Combine(dir, "slimta.pid");
        int port = FreePort.Next();
        string Yaml(string user) => $$$"""
            process: {slimta: {user: {{{user}}}}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: memory, relay: r}
            relay:
              r: {type: blackhole}
            """;

        await File.WriteAllTextAsync(config, Yaml("no-such-user-slimta"));
        var (exit, _, stderr) = await AdminServer.RunAsync("-c", config);
        Assert.Equal(2, exit);
        Assert.Contains("process.slimta.user: no such user 'no-such-user-slimta'", stderr);

        await File.WriteAllTextAsync(config, Yaml("nobody"));
        if (Environment.UserName != "root")
        {
            // Not root: switching is impossible, and said so before anything starts.
            (exit, _, stderr) = await AdminServer.RunAsync("-c", config);
            Assert.Equal(2, exit);
            Assert.Contains("needs root", stderr);
            return;
        }
        await using var slimta = new Running(config, "-p", pidFile);
        await slimta.WaitOutputAsync("running (config");
        await WaitListeningAsync(port, slimta);
        var status = await File.ReadAllLinesAsync($"/proc/{slimta.Process.Id}/status");
        var uids = status.First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..];
        var gids = status.First(l => l.StartsWith("Gid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.All(uids, u => Assert.Equal("65534", u.Trim()));
        Assert.All(gids, g => Assert.Equal("65534", g.Trim()));
        var groups = status.First(l => l.StartsWith("Groups:", StringComparison.Ordinal));
        Assert.DoesNotContain("\t0 ", groups + " ");
        Assert.True(await TrySendAsync(port, "as nobody"));

        slimta.Signal("TERM");
        Assert.Equal(0, await slimta.WaitExitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(pidFile));
    }

    [Fact]
    public async Task PrivilegeDrop_SpooledMessageAtStartup_DeliveredAndStoredAsTheUser()
    {
        if (OperatingSystem.IsWindows() || Environment.UserName != "root")
        {
            return; // PrivilegeDrop_UserNobody_RunsAsNobodyAfterBinding checks the non-root refusal.
        }
        var dir = TestPaths.NewTempDir("slimta-ops");
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        var spool = Path.Combine(dir, "spool");
        var mail = Path.Combine(dir, "mail");
        foreach (var sub in new[] { "env", "meta", "tmp", "quarantine" })
        {
            Directory.CreateDirectory(Path.Combine(spool, sub));
        }
        Directory.CreateDirectory(mail);
        foreach (var d in new[] { spool, mail })
        {
            Process.Start("chown", ["-R", "65534:65534", d])!.WaitForExit();
        }
        var config = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        await File.WriteAllTextAsync(config, $$$"""
            process: {slimta: {user: nobody}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: disk, relay: r, envelope_dir: spool/env, meta_dir: spool/meta, tmp_dir: spool/tmp, quarantine_dir: spool/quarantine}
            relay:
              r: {type: maildir, path: mail}
            """);

        // First run stores only (--no-relay): the message waits in the spool, written by nobody.
        await using (var store = new Running(config, "--no-relay"))
        {
            await store.WaitOutputAsync("running (config");
            await WaitListeningAsync(port, store);
            Assert.True(await TrySendAsync(port, "spooled"));
            store.Signal("TERM");
            Assert.Equal(0, await store.WaitExitAsync(TimeSpan.FromSeconds(30)));
        }
        var spooled = Directory.GetFiles(Path.Combine(spool, "env"), "*.env");
        Assert.Single(spooled);
        Assert.Equal(65534, Owner(spooled[0]));

        // Second run delivers it at once on startup: the queue starts only after the switch, so the
        // Maildir file is nobody's, never root's (the old order delivered before switching).
        await using var deliver = new Running(config);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] delivered;
        while ((delivered = Directory.Exists(mail) ? Directory.GetFiles(mail, "*", SearchOption.AllDirectories).Where(f => f.Contains("/new/", StringComparison.Ordinal)).ToArray() : []).Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline && !deliver.Process.HasExited, deliver.Output);
            await Task.Delay(50);
        }
        Assert.All(delivered, f => Assert.Equal(65534, Owner(f)));
        // The order itself, not only its usual outcome: the queue loads its spool after the switch.
        await deliver.WaitOutputAsync("loaded 1 stored messages");
        var output = deliver.Output;
        Assert.True(output.IndexOf("running as uid 65534", StringComparison.Ordinal) is int switched and >= 0
            && switched < output.IndexOf("loaded 1 stored messages", StringComparison.Ordinal), output);
        deliver.Signal("TERM");
        Assert.Equal(0, await deliver.WaitExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(Directory.GetFiles(Path.Combine(spool, "env"), "*.env"));

        static int Owner(string path)
        {
            var psi = new ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true };
            using var stat = Process.Start(psi)!;
            var text = stat.StandardOutput.ReadToEnd();
            stat.WaitForExit();
            return int.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    [Fact]
    public async Task SetupConfig_WritesASampleThatValidates_RefusesOverwriteWithoutForce()
    {
        var dir = Path.Combine(TestPaths.NewTempDir("slimta-ops"), "etc");
        var (exit, stdout, stderr) = await AdminServer.RunAsync("setup", "config", dir);
        Assert.True(exit == 0, stderr);
        var file = Path.Combine(dir, "slimta.conf");
        Assert.Contains(file, stdout);
        Assert.Contains("# ", await File.ReadAllTextAsync(file));

        (exit, stdout, stderr) = await AdminServer.RunAsync("-c", file, "--check");
        Assert.True(exit == 0, stderr);
        Assert.Contains("is valid", stdout);

        await File.AppendAllTextAsync(file, "# mine\n");
        (exit, _, stderr) = await AdminServer.RunAsync("setup", "config", dir);
        Assert.Equal(1, exit);
        Assert.Contains("--force", stderr);
        Assert.EndsWith("# mine\n", await File.ReadAllTextAsync(file));

        (exit, _, stderr) = await AdminServer.RunAsync("setup", "config", dir, "--force");
        Assert.True(exit == 0, stderr);
        Assert.DoesNotContain("# mine", await File.ReadAllTextAsync(file));
    }
}
