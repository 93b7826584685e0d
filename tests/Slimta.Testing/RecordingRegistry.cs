using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Testing;

/// <summary>
/// Records what a plugin registers, as the host's registry would (case-insensitive names, a
/// duplicate name of one kind is an error), so a test can build components through a plugin's
/// real factories without the plugin loader.
/// </summary>
public sealed class RecordingRegistry : IPluginRegistry
{
    /// <summary>Queue storages by type name.</summary>
    public Dictionary<string, IComponentFactory<IQueueStorage>> Storages { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Queue types by name.</summary>
    public Dictionary<string, IQueueTypeFactory> QueueTypes { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Relays by type name.</summary>
    public Dictionary<string, IComponentFactory<IRelay>> Relays { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Queue policies by type name.</summary>
    public Dictionary<string, IComponentFactory<IQueuePolicy>> QueuePolicies { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Relay-time policies by type name.</summary>
    public Dictionary<string, IComponentFactory<IRelayPolicy>> RelayPolicies { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Edges by type name.</summary>
    public Dictionary<string, IEdgeFactory> Edges { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every registration in order, as <c>kind:name</c> (<c>storage:memory</c>, <c>relay_policy:add_header</c>).</summary>
    public List<string> Registered { get; } = [];

    /// <summary>A registry holding what <paramref name="plugin"/> registers.</summary>
    public static RecordingRegistry Of(ISlimtaPlugin plugin)
    {
        var registry = new RecordingRegistry();
        plugin.Register(registry);
        return registry;
    }

    /// <inheritdoc />
    public void AddStorage(string type, IComponentFactory<IQueueStorage> factory) => Add(Storages, "storage", type, factory);

    /// <inheritdoc />
    public void AddQueueType(string type, IQueueTypeFactory factory) => Add(QueueTypes, "queue_type", type, factory);

    /// <inheritdoc />
    public void AddRelay(string type, IComponentFactory<IRelay> factory) => Add(Relays, "relay", type, factory);

    /// <inheritdoc />
    public void AddQueuePolicy(string type, IComponentFactory<IQueuePolicy> factory) => Add(QueuePolicies, "queue_policy", type, factory);

    /// <inheritdoc />
    public void AddRelayPolicy(string type, IComponentFactory<IRelayPolicy> factory) => Add(RelayPolicies, "relay_policy", type, factory);

    /// <inheritdoc />
    public void AddEdge(string type, IEdgeFactory factory) => Add(Edges, "edge", type, factory);

    private void Add<T>(Dictionary<string, T> kind, string kindName, string type, T factory)
    {
        if (!kind.TryAdd(type, factory))
        {
            throw new InvalidOperationException($"{kindName} '{type}' registered twice");
        }
        Registered.Add(kindName + ":" + type);
    }
}
