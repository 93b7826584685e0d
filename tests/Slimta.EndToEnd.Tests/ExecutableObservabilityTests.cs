using System.Diagnostics;
using System.Text.Json;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary><c>process.NAME.logging</c> and <c>process.NAME.metrics</c> through the real slimta executable.</summary>
public sealed class ExecutableObservabilityTests
{
    private static string Dll => Path.Combine(TestPaths.Bin, "slimta", "slimta.dll");

    private static string Config(string process, int port) => $$$"""
        process:
          slimta:
        {{{process}}}
        edge:
          inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: {{{port}}}}}
        queue:
          q: {type: memory, relay: r}
        relay:
          r: {type: blackhole}
        """;

    private static async Task<(int ExitCode, string Stderr)> RunToExitAsync(string config)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Dll);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(config);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(timeout.Token);
        await stdout;
        return (p.ExitCode, stderr);
    }

    [Theory]
    [InlineData("    metrics: {listener: {interface: 127.0.0.1, port: 0}}", "process.slimta.metrics.listener.port")]
    [InlineData("    metrics: {listener: {port: 9465}, path: metrics}", "process.slimta.metrics.path")]
    [InlineData("    logging: {format: yaml}", "process.slimta.logging.format")]
    [InlineData("    logging: {target: no-such-dir/slimta.log}", "process.slimta.logging.target")]
    public async Task Run_BadLoggingOrMetrics_Exit2NamingTheKeyPath(string process, string keyPath)
    {
        var dir = TestPaths.NewTempDir("slimta-exe");
        try
        {
            var config = Path.Combine(dir, "slimta.conf");
            await File.WriteAllTextAsync(config, Config(process, FreePort.Next()));
            var (exit, stderr) = await RunToExitAsync(config);
            Assert.Equal(2, exit);
            Assert.Contains($"configuration error: {keyPath}: ", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Run_JsonLogToFileAndMetrics_LinesInTheFileAndEndpointServes()
    {
        var dir = TestPaths.NewTempDir("slimta-exe");
        int smtpPort = FreePort.Next();
        int metricsPort = FreePort.Next();
        var config = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(config, Config($"    logging: {{format: json, target: slimta.log}}\n    metrics: {{listener: {{port: {metricsPort}}}}}", smtpPort));
        try
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(Dll);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(config);
            using (var p = Process.Start(psi)!)
            {
                var stdout = p.StandardOutput.ReadToEndAsync();
                var stderr = p.StandardError.ReadToEndAsync();
                try
                {
                    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                    string? text = null;
                    var deadline = DateTime.UtcNow.AddSeconds(30);
                    while (text is null && DateTime.UtcNow < deadline && !p.HasExited)
                    {
                        try
                        {
                            text = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
                        }
                        catch (HttpRequestException)
                        {
                            await Task.Delay(100);
                        }
                    }
                    Assert.True(text is not null, "the metrics endpoint never answered: " + (p.HasExited ? await stderr : "still running"));
                    Assert.Contains("slimta_messages_accepted_total{queue=\"q\"} 0", text, StringComparison.Ordinal);
                    Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
                    await p.WaitForExitAsync(timeout.Token);
                    Assert.Equal(0, p.ExitCode);
                    // Everything went to the file, nothing to standard output.
                    Assert.Equal(string.Empty, await stdout);
                }
                finally
                {
                    if (!p.HasExited)
                    {
                        p.Kill(entireProcessTree: true);
                    }
                }
            }
            // Stopped (SIGTERM) and flushed: the startup and listening lines are JSON in the file.
            var lines = await File.ReadAllLinesAsync(Path.Combine(dir, "slimta.log"));
            Assert.NotEmpty(lines);
            Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
            Assert.Contains(lines, l => l.Contains("running (config", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
