using System.Diagnostics;
using System.Net.Sockets;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>The real slimta executable as an operator runs it.</summary>
public sealed class ExecutableTests
{
    private static string Dll => Path.Combine(TestPaths.Bin, "slimta", "slimta.dll");

    private static Process Start(string config, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Dll);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(config);
        foreach (var a in extra)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    [Fact]
    public async Task Run_ConfigError_ExitsWithKeyPathAndNeverListens()
    {
        int port = FreePort.Next();
        var dir = TestPaths.NewTempDir("slimta-exe");
        var config = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(config, $$$"""
            process: {slimta: {}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
            queue:
              q: {type: memory, relay: r, retry: {delay: "300*", maximum: 2}}
            relay:
              r: {type: blackhole}
            """);
        using var p = Start(config);
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("queue.q.retry.delay", stderr);
        Assert.Contains("slimta.conf:", stderr);
        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", port));
    }

    [Fact]
    public async Task Run_SendThenSigterm_DeliversAndExitsZero()
    {
        int port = FreePort.Next();
        var dir = TestPaths.NewTempDir("slimta-exe");
        var config = Path.Combine(dir, "slimta.conf");
        var pidFile = Path.Combine(dir, "slimta.pid");
        await File.WriteAllTextAsync(config, $$$"""
            process: {slimta: {}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}, rules: {only_recipients: ["@example.test"]}}
            queue:
              q: {type: memory, relay: r}
            relay:
              r: {type: maildir, path: mail}
            """);
        using var p = Start(config, "-p", pidFile);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(pidFile) && DateTime.UtcNow < deadline && !p.HasExited)
            {
                await Task.Delay(50);
            }
            Assert.True(File.Exists(pidFile), "no pid file: " + (p.HasExited ? await p.StandardError.ReadToEndAsync() : "still starting"));
            Assert.Equal(p.Id.ToString() + "\n", await File.ReadAllTextAsync(pidFile));

            await using (var smtp = await RawSmtp.ConnectAsync(port))
            {
                Assert.StartsWith("220 ", await smtp.ReplyAsync());
                await smtp.CommandAsync("EHLO client.test");
                await smtp.CommandAsync("MAIL FROM:<a@client.test>");
                Assert.StartsWith("250 ", await smtp.CommandAsync("RCPT TO:<user@example.test>"));
                await smtp.CommandAsync("DATA");
                Assert.StartsWith("250 ", await smtp.CommandAsync("Subject: via the executable\r\n\r\nhi\r\n."));
            }
            var newDir = Path.Combine(dir, "mail", "user", "new");
            while ((!Directory.Exists(newDir) || Directory.GetFiles(newDir).Length == 0) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            Assert.Contains("Subject: via the executable", await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(newDir))));

            Process.Start("kill", ["-TERM", p.Id.ToString()])!.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, p.ExitCode);
            Assert.False(File.Exists(pidFile));
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Run_Version_PrintsVersion()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
        psi.ArgumentList.Add(Dll);
        psi.ArgumentList.Add("--version");
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
        Assert.Matches(@"^slimta \d+\.\d+\.\d+", output);
    }
}
