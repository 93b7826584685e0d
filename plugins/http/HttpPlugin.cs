using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Http;

[assembly: SlimtaPlugin(typeof(HttpPlugin))]

namespace Slimta.Plugins.Http;

/// <summary>Entry point of the HTTP plugin: registers the <c>http</c> relay (POST each message to a URL) and the <c>http</c> edge (receive messages by POST).</summary>
public sealed class HttpPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddRelay("http", new HttpRelayFactory());
        registry.AddEdge(HttpEdgeFactory.TypeName, new HttpEdgeFactory());
    }
}
