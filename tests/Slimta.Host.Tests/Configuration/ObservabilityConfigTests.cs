using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Logging;
using Slimta.Testing;
using static Slimta.Host.Tests.Configuration.ConfigTestHelpers;

namespace Slimta.Host.Tests.Configuration;

/// <summary><c>process.NAME.logging</c> and <c>process.NAME.metrics</c>: binding, defaults and errors naming the key path.</summary>
public sealed class ObservabilityConfigTests
{
    private static string Process(string body) => $"process:\n  slimta:\n{body}queue: {{main: {{type: memory}}}}\n";

    [Fact]
    public void Load_MetricsListener_BindsAddressPortAndDefaultPath()
    {
        var config = LoadYaml(Process("    metrics: {listener: {port: 9465}}\n"));
        Assert.Equal(new MetricsConfig("127.0.0.1", 9465, "/metrics"), config.Processes["slimta"].Metrics);
    }

    [Fact]
    public void Load_MetricsEveryKey_Binds()
    {
        var config = LoadYaml(Process("    metrics:\n      listener: {interface: '::', port: 9100}\n      path: /stats\n"));
        Assert.Equal(new MetricsConfig("::", 9100, "/stats"), config.Processes["slimta"].Metrics);
        Assert.Equal("0.0.0.0", LoadYaml(Process("    metrics: {listener: {interface: '*', port: 1}}\n")).Processes["slimta"].Metrics!.Interface);
        Assert.Equal("127.0.0.1", LoadYaml(Process("    metrics: {listener: {interface: localhost, port: 1}}\n")).Processes["slimta"].Metrics!.Interface);
        // One IPv6 address is fine: the endpoint is a TcpListener (HttpListener could not bind one on Linux).
        Assert.Equal("::1", LoadYaml(Process("    metrics: {listener: {interface: '[::1]', port: 1}}\n")).Processes["slimta"].Metrics!.Interface);
        Assert.Null(LoadYaml(Process("    hostname: mx\n")).Processes["slimta"].Metrics);
    }

    [Theory]
    [InlineData("    metrics: {listener: {port: 0}}\n", "process.slimta.metrics.listener.port", 3)]
    [InlineData("    metrics: {listener: {port: 70000}}\n", "process.slimta.metrics.listener.port", 3)]
    [InlineData("    metrics: {listener: {interface: mail.example.com, port: 9465}}\n", "process.slimta.metrics.listener.interface", 3)]
    [InlineData("    metrics: {listener: {interface: 127.0.0.1}}\n", "process.slimta.metrics.listener", 3)]
    [InlineData("    metrics: {listen: '127.0.0.1:9465'}\n", "process.slimta.metrics.listen", 3)]
    [InlineData("    metrics: {path: /metrics}\n", "process.slimta.metrics", 3)]
    [InlineData("    metrics:\n      listener: {port: 9465}\n      path: metrics\n", "process.slimta.metrics.path", 5)]
    [InlineData("    metrics: 9465\n", "process.slimta.metrics", 3)]
    [InlineData("    logging: {format: xml}\n", "process.slimta.logging.format", 3)]
    [InlineData("    logging: {level: loud}\n", "process.slimta.logging.level", 3)]
    [InlineData("    logging: {target: syslog, colour: true}\n", "process.slimta.logging.colour", 3)]
    public void Load_BadMetricsOrLogging_ErrorNamesKeyPath(string body, string keyPath, int line) =>
        ExpectError(() => LoadYaml(Process(body)), keyPath, line);

    [Fact]
    public void Load_LoggingTarget_StdoutStderrOrFileRelativeToTheConfig()
    {
        Assert.Null(LoadYaml(Process("    hostname: mx\n")).Processes["slimta"].Logging.Target);
        Assert.Equal("stderr", LoadYaml(Process("    logging: {target: stderr}\n"), "/srv/slimta").Processes["slimta"].Logging.Target);
        Assert.Equal("stdout", LoadYaml(Process("    logging: {target: stdout}\n"), "/srv/slimta").Processes["slimta"].Logging.Target);
        Assert.Equal("/srv/slimta/log/slimta.log", LoadYaml(Process("    logging: {target: log/slimta.log}\n"), "/srv/slimta").Processes["slimta"].Logging.Target);
        Assert.Equal("/var/log/slimta.log", LoadYaml(Process("    logging: {target: /var/log/slimta.log, format: json, level: warn}\n"), "/srv/slimta").Processes["slimta"].Logging.Target);
    }

    [Fact]
    public void Load_LoggingTargetIsADirectory_ErrorNamesTarget()
    {
        var dir = TestPaths.NewTempDir("slimta-log");
        try
        {
            ExpectError(() => LoadYaml(Process($"    logging: {{target: '{dir}'}}\n")), "process.slimta.logging.target", 3);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CreateLogging_TargetInMissingDirectory_ConfigErrorNamesTarget()
    {
        var missing = Path.Combine(Path.GetTempPath(), "slimta-no-such-dir-" + Guid.NewGuid().ToString("N"), "slimta.log");
        var error = Assert.Throws<ConfigException>(() => SlimtaLogging.Create(new LoggingConfig("information", "json", missing), "process.slimta.logging"));
        Assert.Equal("process.slimta.logging.target", error.KeyPath);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }
}
