using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Abstractions.Plugins;

/// <summary>
/// Where plugins register factories by the <c>type:</c> name used in slimta.conf. Names are
/// case-insensitive; registering a name another plugin already registered for the same kind
/// is a startup error naming both assemblies.
/// </summary>
public interface IPluginRegistry
{
    /// <summary>A queue storage (<c>memory</c>, <c>disk</c>, <c>redis</c>, …), wrapped by the host's queue engine.</summary>
    void AddStorage(string type, IComponentFactory<IQueueStorage> factory);

    /// <summary>A queue type that is not a storage (<c>proxy</c>): it implements <see cref="IQueue"/> itself.</summary>
    void AddQueueType(string type, IQueueTypeFactory factory);

    /// <summary>A relay (<c>static</c>, <c>mx</c>, <c>maildir</c>, …).</summary>
    void AddRelay(string type, IComponentFactory<IRelay> factory);

    /// <summary>A queue policy (<c>add_date_header</c>, <c>recipient_split</c>, …).</summary>
    void AddQueuePolicy(string type, IComponentFactory<IQueuePolicy> factory);

    /// <summary>A relay-time policy (runs before each delivery attempt, not persisted).</summary>
    void AddRelayPolicy(string type, IComponentFactory<IRelayPolicy> factory);

    /// <summary>An edge (<c>http</c>, …); the SMTP edge is built into the host.</summary>
    void AddEdge(string type, IEdgeFactory factory);
}
