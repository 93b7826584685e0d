using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Disk.Tests;

/// <summary>Captures what a plugin registers, as the host's registry would.</summary>
internal sealed class RecordingRegistry : IPluginRegistry
{
    public Dictionary<string, IComponentFactory<IQueueStorage>> Storages { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Others { get; } = [];

    public void AddStorage(string type, IComponentFactory<IQueueStorage> factory) => Storages.Add(type, factory);

    public void AddQueueType(string type, IQueueTypeFactory factory) => Others.Add(type);

    public void AddRelay(string type, IComponentFactory<IRelay> factory) => Others.Add(type);

    public void AddQueuePolicy(string type, IComponentFactory<IQueuePolicy> factory) => Others.Add(type);

    public void AddRelayPolicy(string type, IComponentFactory<IRelayPolicy> factory) => Others.Add(type);

    public void AddEdge(string type, IEdgeFactory factory) => Others.Add(type);
}
