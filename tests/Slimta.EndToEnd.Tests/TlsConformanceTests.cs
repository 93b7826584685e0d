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

    private static string TlsCases => Path.Combine(TestPaths.RepoRoot, "tests", "Slimta.EndToEnd.Tests", "conformance", "tls_cases.py");

    [Fact]
    public async Task SmtpCheck_TlsAndAuthProfiles_EveryCasePasses()
    {
        Assert.True(File.Exists(TlsCases), TlsCases);
        var sinkDir = TestPaths.NewTempDir("smtpcheck-tls-sink");
        var (sink, sinkPort) = await SharedConformance.StartSinkAsync(sinkDir);
        using var sinkProcess = sink;
        try
        {
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
            var tls = await SharedConformance.CheckAsync("127.0.0.1:" + server.PortOf("inbound"), sinkDir, "tls", SharedConformance.SharedCases, TlsCases);
            var auth = await SharedConformance.CheckAsync("127.0.0.1:" + server.PortOf("authed"), sinkDir, "auth", TlsCases);
            // The shared 'any' cases plus ten STARTTLS cases; fourteen AUTH cases.
            Assert.Matches(@"(?m)^(2\d|[3-9]\d) passed, 0 failed$", tls);
            Assert.Matches(@"(?m)^14 passed, 0 failed$", auth);
        }
        finally
        {
            sink.Kill(entireProcessTree: true);
        }
    }
}
