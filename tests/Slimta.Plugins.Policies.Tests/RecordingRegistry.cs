using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Policies.Tests;

/// <summary>Captures what a plugin registers, as the host's registry would.</summary>
internal sealed class RecordingRegistry : IPluginRegistry
{
    public Dictionary<string, IComponentFactory<IQueuePolicy>> Policies { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, IComponentFactory<IRelayPolicy>> RelayPolicies { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Order { get; } = [];

    public static RecordingRegistry Of(ISlimtaPlugin plugin)
    {
        var registry = new RecordingRegistry();
        plugin.Register(registry);
        return registry;
    }

    public void AddStorage(string type, IComponentFactory<IQueueStorage> factory) => throw new InvalidOperationException(type);

    public void AddQueueType(string type, IQueueTypeFactory factory) => throw new InvalidOperationException(type);

    public void AddRelay(string type, IComponentFactory<IRelay> factory) => throw new InvalidOperationException(type);

    public void AddQueuePolicy(string type, IComponentFactory<IQueuePolicy> factory)
    {
        Policies.Add(type, factory);
        Order.Add(type);
    }

    public void AddRelayPolicy(string type, IComponentFactory<IRelayPolicy> factory)
    {
        RelayPolicies.Add(type, factory);
        Order.Add("relay:" + type);
    }

    public void AddEdge(string type, IEdgeFactory factory) => throw new InvalidOperationException(type);
}
