using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Plugins;

/// <summary>
/// The <see cref="IPluginRegistry"/> one plugin sees while it registers: it records which
/// assembly claimed each name, so a duplicate error can name both.
/// </summary>
internal sealed class SourceRegistry : IPluginRegistry
{
    private readonly PluginRegistry _registry;
    private readonly string _source;

    public SourceRegistry(PluginRegistry registry, string source)
    {
        _registry = registry;
        _source = source;
    }

    public void AddStorage(string type, IComponentFactory<IQueueStorage> factory) => _registry.AddStorage(type, factory, _source);

    public void AddQueueType(string type, IQueueTypeFactory factory) => _registry.AddQueueType(type, factory, _source);

    public void AddRelay(string type, IComponentFactory<IRelay> factory) => _registry.AddRelay(type, factory, _source);

    public void AddQueuePolicy(string type, IComponentFactory<IQueuePolicy> factory) => _registry.AddQueuePolicy(type, factory, _source);

    public void AddRelayPolicy(string type, IComponentFactory<IRelayPolicy> factory) => _registry.AddRelayPolicy(type, factory, _source);

    public void AddEdge(string type, IEdgeFactory factory) => _registry.AddEdge(type, factory, _source);
}
