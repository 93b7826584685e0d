using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary>
/// A loaded and validated slimta.conf: the raw tree plus its typed parts. Immutable; a reload
/// builds a new one. Cross references (edge → queue, queue → relay and bounce queue) are known
/// to resolve; component options are validated later by each type's factory.
/// </summary>
/// <param name="File">Full path of the configuration file (or the virtual name given to <see cref="ConfigLoader.LoadText"/>).</param>
/// <param name="Directory">The directory relative paths are resolved against.</param>
/// <param name="Root">The whole tree, includes and environment references resolved.</param>
/// <param name="Processes"><c>process.*</c>, in written order.</param>
/// <param name="Edges"><c>edge.*</c>, in written order.</param>
/// <param name="Queues"><c>queue.*</c>, in written order.</param>
/// <param name="Relays"><c>relay.*</c>, in written order.</param>
/// <param name="PluginDirectories">Absolute plugin directories (<c>plugins</c>, or the default <c>plugins/</c> next to the executable when it exists).</param>
public sealed record SlimtaConfig(
    string File,
    string Directory,
    ConfigMap Root,
    IReadOnlyDictionary<string, ProcessConfig> Processes,
    IReadOnlyDictionary<string, EdgeConfig> Edges,
    IReadOnlyDictionary<string, QueueConfig> Queues,
    IReadOnlyDictionary<string, RelayConfig> Relays,
    IReadOnlyList<string> PluginDirectories)
{
    /// <summary>The process called <paramref name="name"/> (from <c>-n NAME</c>).</summary>
    /// <exception cref="ConfigException">No such process; the message lists the ones there are.</exception>
    public ProcessConfig GetProcess(string name) =>
        Processes.TryGetValue(name, out var process)
            ? process
            : throw new ConfigException(ConfigNode.Combine("process", name), $"no such process; configured: {string.Join(", ", Processes.Keys)}", Root["process"]?.Location);

    /// <inheritdoc />
    public bool Equals(SlimtaConfig? other) =>
        other is not null && File == other.File && Directory == other.Directory && Root.Equals(other.Root)
        && ConfigEquality.Same(Processes, other.Processes) && ConfigEquality.Same(Edges, other.Edges)
        && ConfigEquality.Same(Queues, other.Queues) && ConfigEquality.Same(Relays, other.Relays)
        && PluginDirectories.SequenceEqual(other.PluginDirectories);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(File, Root);
}
