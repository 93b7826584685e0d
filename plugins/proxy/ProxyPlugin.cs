using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Proxy;

[assembly: SlimtaPlugin(typeof(ProxyPlugin))]

namespace Slimta.Plugins.Proxy;

/// <summary>
/// Entry point of the proxy plugin: registers the queue type <c>proxy</c>, which stores nothing
/// and relays each message while the client waits, handing the next hop's reply back to the edge.
/// </summary>
public sealed class ProxyPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddQueueType("proxy", new ProxyQueueFactory());
    }
}
