using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Plugins.Memory;
using Slimta.Testing;

namespace Slimta.Host.Tests.Queueing;

/// <summary>The real <c>memory</c> storage plugin, created through its registered factory.</summary>
internal static class MemoryStorages
{
    public static IQueueStorage Create(TimeProvider time)
    {
        var registry = RecordingRegistry.Of(new MemoryPlugin());
        var options = new ComponentOptions(new ConfigMap("queue.test", [new("type", new ConfigScalar("queue.test.type", "memory"))]), new HashSet<string> { "type" });
        var factory = registry.Storages["memory"];
        factory.Validate(options);
        return factory.Create(options, new ComponentContext(time, NullLoggerFactory.Instance, "test", "test.example", Path.GetTempPath()));
    }
}
