using Slimta.Abstractions.Configuration;
using static Slimta.Host.Tests.Configuration.ConfigTestHelpers;

namespace Slimta.Host.Tests.Configuration;

public sealed class ConfigValidationTests
{
    [Fact]
    public void Process_Missing_IsRequired()
    {
        var ex = Assert.Throws<ConfigException>(() => LoadYaml("queue:\n  main: {type: memory}\n"));

        Assert.Equal("process", ex.KeyPath);
        Assert.Contains("required", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, ex.Location!.Line);
    }

    [Fact]
    public void Queue_Missing_IsRequired()
    {
        var ex = Assert.Throws<ConfigException>(() => LoadYaml("process:\n  slimta: {}\n"));

        Assert.Equal("queue", ex.KeyPath);
    }

    [Fact]
    public void Queue_NotAMapping_FailsWithLine()
    {
        ExpectError(() => LoadYaml("process:\n  slimta: {}\nqueue: [a, b]\n"), "queue", 3);
    }

    [Fact]
    public void Queue_WithoutType_FailsWithKeyPathAndLine()
    {
        var ex = ExpectError(() => LoadYaml("process:\n  slimta: {}\nqueue:\n  main:\n    relay_x: y\n"), "queue.main", 4);

        Assert.Contains("'type' is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Relay_WithoutType_FailsWithKeyPathAndLine()
    {
        ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nrelay:\n  out:\n    host: x\n"), "relay.out", 7);
    }

    [Fact]
    public void Edge_WithoutType_FailsWithKeyPathAndLine()
    {
        ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nedge:\n  in:\n    queue: main\n"), "edge.in", 7);
    }

    [Fact]
    public void Edge_UnknownQueue_FailsListingQueues()
    {
        var ex = ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nedge:\n  in:\n    type: smtp\n    queue: mian\n"), "edge.in.queue", 9);

        Assert.Contains("no queue named 'mian'; queues: main", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Edge_WithoutQueue_IsRequired()
    {
        ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nedge:\n  in:\n    type: smtp\n"), "edge.in", 7);
    }

    [Fact]
    public void Queue_UnknownRelay_FailsListingRelays()
    {
        var ex = ExpectError(() => LoadYaml("""
            process: {slimta: {}}
            queue:
              main:
                type: memory
                relay: nowhere
            relay:
              out: {type: static}
            """), "queue.main.relay", 5);

        Assert.Contains("relays: out", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Queue_UnknownBounceQueue_Fails()
    {
        ExpectError(() => LoadYaml("""
            process: {slimta: {}}
            queue:
              main:
                type: memory
                bounce_queue: bounces
            """), "queue.main.bounce_queue", 5);
    }

    [Theory]
    [InlineData("proxy", "retry: {maximum: 3}", "queue.main.retry")]
    [InlineData("custom", "retry: {maximum: 3}", "queue.main.retry")]
    [InlineData("proxy", "policies: [{type: add_date_header}]", "queue.main.policies")]
    [InlineData("Proxy", "policies: []", "queue.main.policies")]
    public void Queue_ProxyOrCustomWithRetryOrPolicies_Fails(string type, string extra, string keyPath)
    {
        var factory = type == "custom" ? "    factory: A:B.C\n" : string.Empty;
        var yaml = $"process: {{slimta: {{}}}}\nqueue:\n  main:\n    type: {type}\n{factory}    {extra}\n";

        var ex = ExpectError(() => LoadYaml(yaml), keyPath, type == "custom" ? 6 : 5);

        Assert.Contains(type, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Queue_CustomWithPolicies_IsAllowed()
    {
        var config = LoadYaml("""
            process: {slimta: {}}
            queue:
              main:
                type: custom
                factory: My.Plugin:My.Plugin.Queues.Create
                policies: [{type: add_date_header}]
            """);

        Assert.Equal("My.Plugin:My.Plugin.Queues.Create", config.Queues["main"].Factory);
        Assert.Single(config.Queues["main"].Policies);
    }

    [Fact]
    public void Custom_WithoutFactory_Fails()
    {
        var ex = ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nrelay:\n  mine:\n    type: custom\n"), "relay.mine", 7);

        Assert.Contains("'factory' is required", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_OnANonCustomType_Fails()
    {
        ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nrelay:\n  out:\n    type: static\n    factory: A:B.C\n"), "relay.out.factory", 9);
    }

    [Fact]
    public void Policy_WithoutType_FailsWithIndexPath()
    {
        ExpectError(() => LoadYaml("""
            process: {slimta: {}}
            queue:
              main:
                type: memory
                policies:
                  - type: add_date_header
                  - mapping: {a: b}
            """), "queue.main.policies.1", 7);
    }

    [Fact]
    public void Retry_MaximumNotANumber_FailsAtItsKey()
    {
        var ex = ExpectError(() => LoadYaml("""
            process: {slimta: {}}
            queue:
              outbound:
                type: memory
                retry:
                  delay: 300*x
                  maximum: lots
            """), "queue.outbound.retry.maximum", 7);

        Assert.Contains("'lots' is not a whole number", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_BadDelayExpression_FailsAtStartup()
    {
        ExpectError(() => LoadYaml("""
            process: {slimta: {}}
            queue:
              outbound:
                type: memory
                retry:
                  delay: 300*(x
            """), "queue.outbound.retry.delay", 6);
    }

    [Fact]
    public void Retry_UnknownKey_Fails()
    {
        var ex = ExpectError(() => LoadYaml("""
            process: {slimta: {}}
            queue:
              outbound:
                type: memory
                retry:
                  maximun: 3
            """), "queue.outbound.retry.maximun", 6);

        Assert.Contains("known keys here: delay, maximum", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retry_Empty_UsesDefaultDelay()
    {
        var config = LoadYaml("process: {slimta: {}}\nqueue:\n  main:\n    type: memory\n    retry: {}\n");

        Assert.Equal("300", config.Queues["main"].Retry!.Delay);
        Assert.Null(config.Queues["main"].Retry!.Maximum);
    }

    [Fact]
    public void Process_UnknownKey_Fails()
    {
        ExpectError(() => LoadYaml("process:\n  slimta:\n    deamon: true\nqueue: {main: {type: memory}}\n"), "process.slimta.deamon", 3);
    }

    [Fact]
    public void Process_BadLoggingFormat_Fails()
    {
        ExpectError(() => LoadYaml("process:\n  slimta:\n    logging: {format: xml}\nqueue: {main: {type: memory}}\n"), "process.slimta.logging.format", 3);
    }

    [Fact]
    public void GetProcess_Unknown_ListsConfiguredProcesses()
    {
        var config = LoadYaml(SampleConfigs.MinimalYaml);

        var ex = Assert.Throws<ConfigException>(() => config.GetProcess("slimta-worker"));

        Assert.Equal("process.slimta-worker", ex.KeyPath);
        Assert.Contains("configured: slimta", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownTopLevelKeys_AreIgnored()
    {
        var config = LoadYaml(SampleConfigs.MinimalYaml + "\nrules: {anything: [1, 2]}\ntls: {certfile: x}\n");

        Assert.True(config.Root.ContainsKey("rules"));
        Assert.Single(config.Queues);
    }

    [Fact]
    public void ComponentOptions_UnknownKeyInsideComponent_IsAnErrorWithPath()
    {
        var config = LoadYaml(SampleConfigs.MinimalYaml + "\nrelay:\n  out:\n    type: static\n    hots: x\n");

        var ex = Assert.Throws<ConfigException>(() => config.Relays["out"].Options.RequireKnownKeys("host", "port"));

        Assert.Equal("relay.out.hots", ex.KeyPath);
        Assert.Equal(9, ex.Location!.Line);
        Assert.Contains("factory, host, policies, port, type", ex.Message, StringComparison.Ordinal);
    }
}
