using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;

using Slimta.Testing;

namespace Slimta.Plugins.Disk.Tests;

/// <summary>Creates disk storages through the plugin, as the host does.</summary>
internal static class DiskTestKit
{
    private static readonly HashSet<string> HostKeys = new(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry", "factory" };

    public static ComponentOptions Options(params (string Key, string Value)[] entries) => new(
        new ConfigMap("queue.inbound", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("queue.inbound." + e.Key, e.Value)))),
        HostKeys);

    /// <summary>Options with envelope and meta dirs under <paramref name="root"/> (created) plus extra keys.</summary>
    public static ComponentOptions SpoolOptions(string root, params (string Key, string Value)[] extra)
    {
        Directory.CreateDirectory(Path.Combine(root, "env"));
        Directory.CreateDirectory(Path.Combine(root, "meta"));
        return Options([("type", "disk"), ("relay", "out"), ("envelope_dir", "env"), ("meta_dir", "meta"), .. extra]);
    }

    public static FactoryHandle Factory()
    {
        var registry = new RecordingRegistry();
        new DiskPlugin().Register(registry);
        return new FactoryHandle(registry.Storages["disk"]);
    }

    /// <summary>A storage over <paramref name="root"/> (relative paths resolve against it).</summary>
    public static DiskStorage Create(string root, ILoggerFactory? loggers = null, params (string Key, string Value)[] extra) =>
        (DiskStorage)Factory().Create(SpoolOptions(root, extra), root, loggers);

    /// <summary>Every id the storage loads at startup.</summary>
    public static async Task<List<ScheduledMessage>> LoadAllAsync(IQueueStorage storage)
    {
        var list = new List<ScheduledMessage>();
        await foreach (var m in storage.LoadAllAsync(CancellationToken.None))
        {
            list.Add(m);
        }
        return list;
    }

    /// <summary>The factory with a context rooted at a directory.</summary>
    internal sealed class FactoryHandle(Slimta.Abstractions.Plugins.IComponentFactory<IQueueStorage> factory)
    {
        public Slimta.Abstractions.Plugins.IComponentFactory<IQueueStorage> Inner => factory;

        public IQueueStorage Create(ComponentOptions options, string configDirectory, ILoggerFactory? loggers = null)
        {
            factory.Validate(options);
            var context = new ComponentContext(new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero)), loggers ?? NullLoggerFactory.Instance, "mx", "mx.example.com", configDirectory);
            return factory.Create(options, context);
        }
    }
}
