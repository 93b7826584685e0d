using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// The project's black-box SMTP checker (../shared/conformance/smtpcheck.py) against the whole
/// server: its recording sink as the next hop, its cases against our edge.
/// </summary>
public sealed class ConformanceTests
{
    [Fact]
    public async Task SmtpCheck_PlainProfile_EveryCasePasses()
    {
        var sinkDir = TestPaths.NewTempDir("smtpcheck-sink");
        var (sink, sinkPort) = await SharedConformance.StartSinkAsync(sinkDir);
        using (sink)
        {
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
                    queue:
                      outbound:
                        type: memory
                        relay: sink
                        retry: {delay: "1", maximum: 5}
                    relay:
                      sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}}
                    """);
                var output = await SharedConformance.CheckAsync("127.0.0.1:" + server.PortOf(), sinkDir);
                Assert.Matches(@"(?m)^\d+ passed, 0 failed$", output);
            }
            finally
            {
                sink.Kill(entireProcessTree: true);
            }
        }
    }
}
