using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Http;

// LEAD: one line to add to HttpPlugin.Register (the assembly's single [SlimtaPlugin] entry):
//     registry.AddEdge(HttpEdgeFactory.TypeName, new HttpEdgeFactory());

/// <summary>
/// Builds the <c>http</c> edge. Register it in the plugin's entry type with
/// <c>registry.AddEdge("http", new HttpEdgeFactory());</c>.
/// </summary>
public sealed class HttpEdgeFactory : IEdgeFactory
{
    /// <summary>The edge type name in slimta.conf.</summary>
    public const string TypeName = "http";

    /// <inheritdoc />
    public void Validate(ComponentOptions options) => HttpEdgeOptionsParser.Parse(options);

    /// <inheritdoc />
    public IEdge Create(ComponentOptions options, IQueue queue, ComponentContext context) =>
        new HttpEdge(HttpEdgeOptionsParser.Parse(options), queue, context);
}
