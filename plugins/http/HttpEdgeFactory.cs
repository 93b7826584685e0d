using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Http;

/// <summary>
/// Builds the <c>http</c> edge (registered by <see cref="HttpPlugin"/>).
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
