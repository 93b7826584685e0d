using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Memory;

[assembly: SlimtaPlugin(typeof(MemoryPlugin))]

namespace Slimta.Plugins.Memory;

/// <summary>
/// Entry point of the memory plugin: registers the queue storage <c>memory</c>, which keeps
/// messages in process memory only (fast, but everything queued is lost when the process stops).
/// </summary>
public sealed class MemoryPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddStorage("memory", new MemoryStorageFactory());
    }
}
