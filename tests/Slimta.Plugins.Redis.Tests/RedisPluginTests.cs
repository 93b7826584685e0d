using System.Reflection;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Testing;

namespace Slimta.Plugins.Redis.Tests;

public sealed class RedisPluginTests
{
    private static readonly HashSet<string> HostKeys = new(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry" };

    private static ComponentOptions Options(params (string Key, string Value)[] entries) => new(
        new ConfigMap("queue.q", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("queue.q." + e.Key, e.Value)))),
        HostKeys);

    private static IComponentFactory<Abstractions.Queueing.IQueueStorage> Factory()
    {
        var registry = new RecordingRegistry();
        new RedisPlugin().Register(registry);
        return registry.Storages["redis"];
    }

    [Fact]
    public void Register_Always_AddsOnlyRedisStorage()
    {
        var registry = new RecordingRegistry();
        new RedisPlugin().Register(registry);
        Assert.Equal(["storage:redis"], registry.Registered);
    }

    [Fact]
    public void Assembly_Always_NamesRedisPluginAsEntryType()
    {
        var attribute = typeof(RedisPlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>();
        Assert.Equal(typeof(RedisPlugin), attribute?.EntryType);
    }

    [Fact]
    public void Validate_EveryKey_Passes()
    {
        Factory().Validate(Options(("type", "redis"), ("host", "10.0.0.1"), ("port", "6380"), ("db", "2"), ("password", "secret"), ("prefix", "mx:"), ("lease", "30")));
    }

    [Fact]
    public void Validate_UnknownKey_ThrowsNamingKey()
    {
        var e = Assert.Throws<ConfigException>(() => Factory().Validate(Options(("type", "redis"), ("hots", "x"))));
        Assert.Contains("queue.q.hots", e.KeyPath);
    }

    [Fact]
    public void Validate_LeaseBelowOneSecond_ThrowsNamingLease()
    {
        var e = Assert.Throws<ConfigException>(() => Factory().Validate(Options(("type", "redis"), ("lease", "0.5"))));
        Assert.Equal("queue.q.lease", e.KeyPath);
    }

    [Fact]
    public void Validate_PortOutOfRange_ThrowsNamingPort()
    {
        var e = Assert.Throws<ConfigException>(() => Factory().Validate(Options(("type", "redis"), ("port", "70000"))));
        Assert.Equal("queue.q.port", e.KeyPath);
    }
}
