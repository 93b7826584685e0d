using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Plugins.Memory;

namespace Slimta.Host.Tests.Queueing;

/// <summary>The real <c>memory</c> storage plugin, created through its registered factory.</summary>
internal static class MemoryStorages
{
    public static IQueueStorage Create(TimeProvider time)
    {
        var registry = new CapturingRegistry();
        new MemoryPlugin().Register(registry);
        var options = new ComponentOptions(new ConfigMap("queue.test", [new("type", new ConfigScalar("queue.test.type", "memory"))]), new HashSet<string> { "type" });
        var factory = registry.Storage!;
        factory.Validate(options);
        return factory.Create(options, new ComponentContext(time, NullLoggerFactory.Instance, "test", "test.example", Path.GetTempPath()));
    }

    private sealed class CapturingRegistry : IPluginRegistry
    {
        public IComponentFactory<IQueueStorage>? Storage { get; private set; }

        public void AddStorage(string type, IComponentFactory<IQueueStorage> factory) => Storage = factory;

        public void AddQueueType(string type, IQueueTypeFactory factory) { }

        public void AddRelay(string type, IComponentFactory<IRelay> factory) { }

        public void AddQueuePolicy(string type, IComponentFactory<IQueuePolicy> factory) { }

        public void AddRelayPolicy(string type, IComponentFactory<IRelayPolicy> factory) { }

        public void AddEdge(string type, IEdgeFactory factory) { }
    }
}
