using System.Diagnostics;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// The conformance checker against edges with TLS: the shared cases in the 'tls' profile plus our
/// STARTTLS cases (conformance/tls_cases.py), and our AUTH cases against an edge with credentials.
/// </summary>
public sealed class TlsConformanceTests
{
    // python3 -c 'import hashlib,base64;s=b"0123456789abcdef";...pbkdf2_hmac("sha256",b"s3cret pass",s,1000)'
    internal const string AliceHash = "$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg$lSGO8fh5CIau+QFKgHbWRVUT2+mDH8XT6nmIJRUnGTE";

    private static string Checker => SharedConformance.Checker;

    private static string SharedCases => Path.Combine(Path.GetDirectoryName(Checker)!, "cases.py");

    private static string TlsCases => Path.Combine(TestPaths.RepoRoot, "tests", "Slimta.EndToEnd.Tests", "conformance", "tls_cases.py");

    [Fact]
    public async Task SmtpCheck_TlsAndAuthProfiles_EveryCasePasses()
    {
        Assert.True(File.Exists(Checker), $"the conformance checker is missing at {Checker}");
        Assert.True(File.Exists(TlsCases), TlsCases);
        var sinkDir = TestPaths.NewTempDir("smtpcheck-tls-sink");
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
                    tls: {{{TestCertificates.TlsYaml}}}
                  authed:
                    type: smtp
                    queue: outbound
                    listener: {interface: 127.0.0.1, port: 0}
                    max_size: 1048576
                    tls: {{{TestCertificates.TlsYaml}}}
                    rules:
                      lookup_credentials:
                        type: config
                        map: {alice: '{{{AliceHash}}}'}
                queue:
                  outbound:
                    type: memory
                    relay: sink
                    retry: {delay: "1", maximum: 5}
                    policies:
                      - type: add_received_header
                relay:
                  sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}}
                """);
            var tls = await CheckAsync("127.0.0.1:" + server.PortOf("inbound"), sinkDir, "tls", SharedCases, TlsCases);
            var auth = await CheckAsync("127.0.0.1:" + server.PortOf("authed"), sinkDir, "auth", TlsCases);
            // The shared 'any' cases plus ten STARTTLS cases; fourteen AUTH cases.
            Assert.Matches(@"(?m)^(2\d|[3-9]\d) passed, 0 failed$", tls);
            Assert.Matches(@"(?m)^14 passed, 0 failed$", auth);
        }
        finally
        {
            sink.Kill(entireProcessTree: true);
        }
    }

    private static async Task<string> CheckAsync(string server, string sinkDir, string profile, params string[] cases)
    {
        using var check = Start(["check", "--server", server, "--sink-dir", sinkDir, "--profile", profile, "--cases", .. cases]);
        var output = await check.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await check.WaitForExitAsync(timeout.Token);
        Assert.True(check.ExitCode == 0 && output.Contains(" passed, 0 failed", StringComparison.Ordinal), $"profile {profile}:\n{output}");
        return output;
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
