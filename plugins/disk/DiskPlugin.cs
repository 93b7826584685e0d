using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Disk;

[assembly: SlimtaPlugin(typeof(DiskPlugin))]

namespace Slimta.Plugins.Disk;

/// <summary>
/// Entry point of the disk plugin: registers the queue storage <c>disk</c>, which keeps every
/// message in files that are fsynced before the edge answers 250 (see README.md).
/// </summary>
public sealed class DiskPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddStorage("disk", new DiskStorageFactory());
    }
}
