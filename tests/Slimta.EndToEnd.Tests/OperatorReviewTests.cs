using System.Diagnostics;
using System.Globalization;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// Defects an operator hit running the real executable: <c>-d</c> together with
/// <c>process.NAME.user</c>, a spool the dropped-to user cannot write, and the queue commands'
/// messages for a mistyped id.
/// </summary>
public sealed class OperatorReviewTests
{
    private static string Yaml(int port, string user, string queue) => $$$"""
        process: {slimta: {user: {{{user}}}}}
        edge:
          inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
        queue:
          q: {{{queue}}}
        relay:
          r: {type: blackhole}
        """;

    private static bool IsRoot => Environment.UserName == "root";

    [Fact]
    public async Task Daemon_DroppingToNobody_ReportsReadyAndExitsZero()
    {
        var dir = TestPaths.NewTempDir("slimta-review");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        }
        var config = Path.Combine(dir, "slimta.conf");
        var pidFile = Path.Combine(dir, "slimta.pid");
        int port = FreePort.Next();
        await File.WriteAllTextAsync(config, Yaml(port, "nobody", "{type: memory, relay: r}"));
        if (!IsRoot)
        {
            var (code, _, err) = await AdminServer.RunAsync("-c", config, "-d", "-p", pidFile);
            Assert.Equal(2, code);
            Assert.Contains("needs root", err);
            return;
        }

        // The parent's readiness socket belongs to root: before the fix the server's READY=1
        // (sent as nobody) was refused and the parent waited its whole 120 s, then exited 1.
        var clock = Stopwatch.StartNew();
        var (exit, stdout, stderr) = await AdminServer.RunAsync("-c", config, "-d", "-p", pidFile);
        Assert.True(exit == 0, stderr);
        Assert.Contains("running in the background, pid", stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(50), $"took {clock.Elapsed}");
        int pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), CultureInfo.InvariantCulture);
        try
        {
            var uid = File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            Assert.Contains("65534", uid);
            Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            Assert.False(Directory.Exists($"/proc/{pid}"));
            Assert.False(File.Exists(pidFile));
        }
        finally
        {
            if (Directory.Exists($"/proc/{pid}"))
            {
                Process.GetProcessById(pid).Kill();
            }
        }
    }

    [Fact]
    public async Task PrivilegeDrop_SpoolOwnedByRoot_StopsWithExit2NamingTheKey()
    {
        var dir = TestPaths.NewTempDir("slimta-review");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        }
        var config = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        // create_dirs makes the spool as root (mode 0700): the server, once nobody, could store nothing.
        await File.WriteAllTextAsync(config, Yaml(port, "nobody", "{type: disk, relay: r, envelope_dir: spool/env, meta_dir: spool/meta, create_dirs: true}"));
        if (!IsRoot)
        {
            var (code, _, err) = await AdminServer.RunAsync("-c", config);
            Assert.Equal(2, code);
            Assert.Contains("needs root", err);
            return;
        }
        var (exit, _, stderr) = await AdminServer.RunAsync("-c", config, "-p", Path.Combine(dir, "slimta.pid"));
        Assert.Equal(2, exit);
        Assert.Contains("configuration error: queue.q.envelope_dir:", stderr);
        Assert.Contains("is not writable by nobody", stderr);
        Assert.Contains("chown -R nobody", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "slimta.pid")));

        // Given to the user, the same configuration runs and stores mail.
        foreach (var path in Directory.GetFileSystemEntries(Path.Combine(dir, "spool"), "*", SearchOption.AllDirectories).Append(Path.Combine(dir, "spool")))
        {
            Process.Start("chown", ["nobody", path])!.WaitForExit();
        }
        var (exitDaemon, stdout, stderrDaemon) = await AdminServer.RunAsync("-c", config, "-d", "-p", Path.Combine(dir, "slimta.pid"));
        Assert.True(exitDaemon == 0, stderrDaemon);
        int pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(dir, "slimta.pid"))).Trim(), CultureInfo.InvariantCulture);
        try
        {
            var ids = await AdminServer.SendAsync(port, 1);
            Assert.Single(ids);
        }
        finally
        {
            Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Directory.Exists($"/proc/{pid}") && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
        Assert.Contains("running in the background", stdout);
    }

    [Fact]
    public async Task QueueShow_MalformedIdOnDisk_SaysSoWithoutDotnetParameterNoise()
    {
        var dir = TestPaths.NewTempDir("slimta-review");
        var conf = Path.Combine(dir, "slimta.conf");
        int port = FreePort.Next();
        await using var server = await AdminServer.StartAsync(conf, $$$"""
            process: {slimta: {control_socket: {{{Path.Combine(dir, "ctl.sock")}}}}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: disk, relay: r, envelope_dir: env, meta_dir: meta, create_dirs: true}
            relay:
              r: {type: blackhole}
            """);
        var (exit, _, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "show", "5208fbfc");
        Assert.Equal(1, exit);
        Assert.Contains("'5208fbfc' is not a queue id", stderr);
        Assert.DoesNotContain("(Parameter", stderr);
        Assert.DoesNotContain("failed", stderr);
    }

    [Fact]
    public async Task QueueList_ServerStartedWithPidFileOption_HintsAtTheSameOption()
    {
        var dir = TestPaths.NewTempDir("slimta-review");
        var conf = Path.Combine(dir, "slimta.conf");
        // Memory queue: offline it is refused, after the hint. A process name of its own keeps
        // the default socket path clear of other servers on this machine.
        await File.WriteAllTextAsync(conf, $$$"""
            process: {reviewhint: {shutdown_timeout: 5}}
            queue:
              q: {type: memory, relay: r}
            relay:
              r: {type: blackhole}
            """);
        var (exit, _, stderr) = await AdminServer.RunAsync("queue", "-c", conf, "-n", "reviewhint", "list");
        Assert.Equal(1, exit);
        Assert.Contains("give the same -p", stderr);
    }

    [Fact]
    public async Task Start_PortInUse_Exits1WithTheReasonOnStandardError()
    {
        var dir = TestPaths.NewTempDir("slimta-review");
        var config = Path.Combine(dir, "slimta.conf");
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        await File.WriteAllTextAsync(config, $$$"""
            process: {slimta: {control_socket: ""}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: memory, relay: r}
            relay:
              r: {type: blackhole}
            """);
        var (exit, _, stderr) = await AdminServer.RunAsync("-c", config);
        Assert.Equal(1, exit);
        // docs/operations.md: errors go to standard error (the log, on stdout by default, is not where a script looks).
        Assert.Contains("slimta: could not start:", stderr);
    }
}
