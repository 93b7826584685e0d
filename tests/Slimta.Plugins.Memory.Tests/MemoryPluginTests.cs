using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

using Slimta.Testing;

namespace Slimta.Plugins.Memory.Tests;

public sealed class MemoryPluginTests
{
    private static readonly HashSet<string> HostKeys = new(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry" };

    internal static ComponentOptions Options(params (string Key, string Value)[] entries) => new(
        new ConfigMap("queue.inbound", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("queue.inbound." + e.Key, e.Value)))),
        HostKeys);

    internal static IQueueStorage CreateThroughPlugin()
    {
        var registry = new RecordingRegistry();
        new MemoryPlugin().Register(registry);
        var factory = registry.Storages["memory"];
        var options = Options(("type", "memory"), ("relay", "out"));
        factory.Validate(options);
        var context = new ComponentContext(new FakeTimeProvider(), NullLoggerFactory.Instance, "mx", "mx.example.com", Path.GetTempPath());
        return factory.Create(options, context);
    }

    [Fact]
    public void Register_Always_AddsOnlyMemoryStorage()
    {
        var registry = new RecordingRegistry();
        new MemoryPlugin().Register(registry);
        Assert.Equal(["memory"], registry.Storages.Keys);
        Assert.Equal(["storage:memory"], registry.Registered);
    }

    [Fact]
    public void Assembly_Always_NamesMemoryPluginAsEntryType()
    {
        var attribute = typeof(MemoryPlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>();
        Assert.NotNull(attribute);
        Assert.Equal(typeof(MemoryPlugin), attribute.EntryType);
    }

    [Fact]
    public void Validate_HostKeysOnly_Passes()
    {
        var registry = new RecordingRegistry();
        new MemoryPlugin().Register(registry);
        registry.Storages["memory"].Validate(Options(("type", "memory"), ("relay", "out"), ("retry", "x")));
    }

    [Fact]
    public void Validate_UnknownKey_ThrowsWithKeyPath()
    {
        var registry = new RecordingRegistry();
        new MemoryPlugin().Register(registry);
        var error = Assert.Throws<ConfigException>(() => registry.Storages["memory"].Validate(Options(("type", "memory"), ("envelope_dir", "/tmp"))));
        Assert.Equal("queue.inbound.envelope_dir", error.KeyPath);
        Assert.StartsWith("queue.inbound.envelope_dir: unknown key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TwoCalls_ReturnIndependentStorages()
    {
        var first = CreateThroughPlugin();
        var second = CreateThroughPlugin();
        Assert.NotSame(first, second);
    }
}
