using System.Diagnostics;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// The project's black-box SMTP checker (../shared/conformance/smtpcheck.py) against the whole
/// server: its recording sink as the next hop, its cases against our edge.
/// </summary>
public sealed class ConformanceTests
{
    private static string Checker => SharedConformance.Checker;

    [Fact]
    public async Task SmtpCheck_PlainProfile_EveryCasePasses()
    {
        Assert.True(File.Exists(Checker), $"the conformance checker is missing at {Checker} (shared/ must sit beside the repository)");
        var sinkDir = TestPaths.NewTempDir("smtpcheck-sink");
        int sinkPort = FreePort.Next();
        using var sink = Start("sink", "--port", sinkPort.ToString(), "--dir", sinkDir);
        try
        {
            await WaitForPortAsync(sinkPort);
            await using var server = await ServerHarness.StartAsync($$$"""
                process: {slimta: {}}
                edge:
                  inbound:
                    type: smtp
                    queue: outbound
                    listener: {interface: 127.0.0.1, port: 0}
                    max_size: 1048576
                queue:
                  outbound:
                    type: memory
                    relay: sink
                    retry: {delay: "1", maximum: 5}
                relay:
                  sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}}
                """);
            using var check = Start("check", "--server", "127.0.0.1:" + server.PortOf(), "--sink-dir", sinkDir);
            var output = await check.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await check.WaitForExitAsync(timeout.Token);
            Assert.True(check.ExitCode == 0, output);
            Assert.Matches(@"(?m)^\d+ passed, 0 failed$", output);
        }
        finally
        {
            sink.Kill(entireProcessTree: true);
        }
    }

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = false };
        psi.ArgumentList.Add(Checker);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var c = new System.Net.Sockets.TcpClient();
                await c.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
