using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;

namespace Slimta.Abstractions.Plugins;

/// <summary>Builds an edge of one type.</summary>
public interface IEdgeFactory
{
    /// <summary>Checks the options without side effects.</summary>
    void Validate(ComponentOptions options);

    /// <summary>Creates the edge, delivering into <paramref name="queue"/>.</summary>
    IEdge Create(ComponentOptions options, IQueue queue, ComponentContext context);
}
