using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Rackspace;

[assembly: SlimtaPlugin(typeof(RackspacePlugin))]

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// Entry point of the rackspace plugin: registers the queue storage <c>rackspace</c>, which keeps
/// messages in Rackspace Cloud Files (OpenStack Swift) and, with <c>queue_name</c>, hands them to
/// workers through Rackspace Cloud Queues (OpenStack Zaqar v1) claims.
/// </summary>
public sealed class RackspacePlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddStorage("rackspace", new RackspaceStorageFactory());
    }
}
