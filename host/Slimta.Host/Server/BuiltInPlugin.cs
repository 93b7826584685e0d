using Slimta.Abstractions.Plugins;
using Slimta.Host.Edge;

namespace Slimta.Host.Server;

/// <summary>What the host itself provides: the SMTP edge (its protocol core lives in the host).</summary>
internal sealed class BuiltInPlugin : ISlimtaPlugin
{
    public void Register(IPluginRegistry registry) => registry.AddEdge("smtp", new SmtpEdgeFactory());
}
