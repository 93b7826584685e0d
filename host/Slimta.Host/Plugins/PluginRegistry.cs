using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Plugins;

/// <summary>
/// Every factory the host and its plugins registered, by kind and case-insensitive <c>type:</c>
/// name. A name is claimed once per kind (storages and queue types share one name space, since
/// both are spelled <c>queue.NAME.type</c>). Lookups of an unknown name throw a
/// <see cref="ConfigException"/> that lists the known names.
/// </summary>
public sealed class PluginRegistry
{
    private readonly ExtensionPoint<IComponentFactory<IQueueStorage>> _storages = new("queue");
    private readonly ExtensionPoint<IQueueTypeFactory> _queueTypes = new("queue");
    private readonly ExtensionPoint<IComponentFactory<IRelay>> _relays = new("relay");
    private readonly ExtensionPoint<IComponentFactory<IQueuePolicy>> _queuePolicies = new("policy");
    private readonly ExtensionPoint<IComponentFactory<IRelayPolicy>> _relayPolicies = new("relay policy");
    private readonly ExtensionPoint<IEdgeFactory> _edges = new("edge");

    /// <summary>
    /// Lets <paramref name="plugin"/> register its factories, attributed to <paramref name="sourceName"/>
    /// (a plugin's assembly name, or a name for something built into the host) in duplicate errors.
    /// </summary>
    /// <exception cref="ConfigException">A name is already taken; the message names both sources.</exception>
    public void RegisterBuiltIn(ISlimtaPlugin plugin, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        plugin.Register(new SourceRegistry(this, sourceName));
    }

    /// <summary>Registered queue storage names, sorted.</summary>
    public IReadOnlyList<string> StorageTypes => _storages.Names;

    /// <summary>Registered queue type names (not storages), sorted.</summary>
    public IReadOnlyList<string> QueueTypes => _queueTypes.Names;

    /// <summary>Registered relay names, sorted.</summary>
    public IReadOnlyList<string> RelayTypes => _relays.Names;

    /// <summary>Registered queue policy names, sorted.</summary>
    public IReadOnlyList<string> QueuePolicyTypes => _queuePolicies.Names;

    /// <summary>Registered relay policy names, sorted.</summary>
    public IReadOnlyList<string> RelayPolicyTypes => _relayPolicies.Names;

    /// <summary>Registered edge names, sorted.</summary>
    public IReadOnlyList<string> EdgeTypes => _edges.Names;

    /// <summary>True when <paramref name="type"/> names a queue storage (wrapped in the host's queue engine).</summary>
    public bool IsStorage(string type) => _storages.Contains(type);

    /// <summary>True when <paramref name="type"/> names a queue type that implements the queue itself (<c>proxy</c>, <c>custom</c>).</summary>
    public bool IsQueueType(string type) => _queueTypes.Contains(type);

    /// <summary>The storage factory for <paramref name="type"/>.</summary>
    /// <param name="type">The <c>type:</c> value.</param>
    /// <param name="keyPath">The key path of that value, for the error (<c>queue.outbound.type</c>).</param>
    /// <param name="location">Where it was written, when known.</param>
    public IComponentFactory<IQueueStorage> GetStorage(string type, string keyPath, SourceLocation? location = null) =>
        TryGetStorage(type, out var f) ? f : throw UnknownQueue(type, keyPath, location);

    /// <summary>The factory of a queue type that is not a storage.</summary>
    public IQueueTypeFactory GetQueueType(string type, string keyPath, SourceLocation? location = null) =>
        TryGetQueueType(type, out var f) ? f : throw UnknownQueue(type, keyPath, location);

    /// <summary>The relay factory for <paramref name="type"/>.</summary>
    public IComponentFactory<IRelay> GetRelay(string type, string keyPath, SourceLocation? location = null) =>
        _relays.TryGet(type, out var f) ? f : throw Unknown(_relays, type, keyPath, location);

    /// <summary>The queue policy factory for <paramref name="type"/>.</summary>
    public IComponentFactory<IQueuePolicy> GetQueuePolicy(string type, string keyPath, SourceLocation? location = null) =>
        _queuePolicies.TryGet(type, out var f) ? f : throw Unknown(_queuePolicies, type, keyPath, location);

    /// <summary>The relay policy factory for <paramref name="type"/>.</summary>
    public IComponentFactory<IRelayPolicy> GetRelayPolicy(string type, string keyPath, SourceLocation? location = null) =>
        _relayPolicies.TryGet(type, out var f) ? f : throw Unknown(_relayPolicies, type, keyPath, location);

    /// <summary>The edge factory for <paramref name="type"/>.</summary>
    public IEdgeFactory GetEdge(string type, string keyPath, SourceLocation? location = null) =>
        _edges.TryGet(type, out var f) ? f : throw Unknown(_edges, type, keyPath, location);

    /// <summary>The storage factory, taking type, key path and location from a component's options.</summary>
    public IComponentFactory<IQueueStorage> GetStorage(ComponentOptions options) => GetStorage(TypeOf(options), TypePath(options), TypeLocation(options));

    /// <summary>The queue type factory, taking type, key path and location from a component's options.</summary>
    public IQueueTypeFactory GetQueueType(ComponentOptions options) => GetQueueType(TypeOf(options), TypePath(options), TypeLocation(options));

    /// <summary>The relay factory, taking type, key path and location from a component's options.</summary>
    public IComponentFactory<IRelay> GetRelay(ComponentOptions options) => GetRelay(TypeOf(options), TypePath(options), TypeLocation(options));

    /// <summary>The queue policy factory, taking type, key path and location from a policy's options.</summary>
    public IComponentFactory<IQueuePolicy> GetQueuePolicy(ComponentOptions options) => GetQueuePolicy(TypeOf(options), TypePath(options), TypeLocation(options));

    /// <summary>The relay policy factory, taking type, key path and location from a policy's options.</summary>
    public IComponentFactory<IRelayPolicy> GetRelayPolicy(ComponentOptions options) => GetRelayPolicy(TypeOf(options), TypePath(options), TypeLocation(options));

    /// <summary>The edge factory, taking type, key path and location from an edge's options.</summary>
    public IEdgeFactory GetEdge(ComponentOptions options) => GetEdge(TypeOf(options), TypePath(options), TypeLocation(options));

    /// <summary>Looks up a storage without throwing.</summary>
    public bool TryGetStorage(string type, out IComponentFactory<IQueueStorage> factory) => _storages.TryGet(type, out factory);

    /// <summary>Looks up a queue type without throwing.</summary>
    public bool TryGetQueueType(string type, out IQueueTypeFactory factory) => _queueTypes.TryGet(type, out factory);

    /// <summary>Looks up a relay without throwing.</summary>
    public bool TryGetRelay(string type, out IComponentFactory<IRelay> factory) => _relays.TryGet(type, out factory);

    /// <summary>Looks up a queue policy without throwing.</summary>
    public bool TryGetQueuePolicy(string type, out IComponentFactory<IQueuePolicy> factory) => _queuePolicies.TryGet(type, out factory);

    /// <summary>Looks up a relay policy without throwing.</summary>
    public bool TryGetRelayPolicy(string type, out IComponentFactory<IRelayPolicy> factory) => _relayPolicies.TryGet(type, out factory);

    /// <summary>Looks up an edge without throwing.</summary>
    public bool TryGetEdge(string type, out IEdgeFactory factory) => _edges.TryGet(type, out factory);

    internal void AddStorage(string type, IComponentFactory<IQueueStorage> factory, string source)
    {
        RejectQueueNameClash(type, source);
        _storages.Add(type, factory, source);
    }

    internal void AddQueueType(string type, IQueueTypeFactory factory, string source)
    {
        RejectQueueNameClash(type, source);
        _queueTypes.Add(type, factory, source);
    }

    internal void AddRelay(string type, IComponentFactory<IRelay> factory, string source) => _relays.Add(type, factory, source);

    internal void AddQueuePolicy(string type, IComponentFactory<IQueuePolicy> factory, string source) => _queuePolicies.Add(type, factory, source);

    internal void AddRelayPolicy(string type, IComponentFactory<IRelayPolicy> factory, string source) => _relayPolicies.Add(type, factory, source);

    internal void AddEdge(string type, IEdgeFactory factory, string source) => _edges.Add(type, factory, source);

    private void RejectQueueNameClash(string type, string source)
    {
        // A storage and a queue type are both chosen by queue.NAME.type, so they share names.
        var existing = _storages.SourceOf(type) ?? _queueTypes.SourceOf(type);
        if (existing is not null)
        {
            throw new ConfigException("plugins", $"the queue type '{type}' is registered twice: by {existing} and by {source}");
        }
    }

    private ConfigException UnknownQueue(string type, string keyPath, SourceLocation? location)
    {
        var known = _storages.Names.Concat(_queueTypes.Names).Order(StringComparer.OrdinalIgnoreCase);
        return new ConfigException(keyPath, $"unknown queue type '{type}'; known: {Join(known)}", location);
    }

    private static ConfigException Unknown<T>(ExtensionPoint<T> point, string type, string keyPath, SourceLocation? location)
        where T : class =>
        new(keyPath, $"unknown {point.Kind} type '{type}'; known: {Join(point.Names)}", location);

    private static string Join(IEnumerable<string> names)
    {
        var list = string.Join(", ", names);
        return list.Length == 0 ? "(none)" : list;
    }

    private static string TypeOf(ComponentOptions options) => options.GetRequiredString("type");

    private static string TypePath(ComponentOptions options) => options.PathOf("type");

    private static SourceLocation? TypeLocation(ComponentOptions options) => options.Map["type"]?.Location ?? options.Map.Location;
}
