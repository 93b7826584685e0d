using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Abstractions.Plugins;

/// <summary>Builds a queue type that is not a storage (such as <c>proxy</c>), given the queue's relay.</summary>
public interface IQueueTypeFactory
{
    /// <summary>Checks the options without side effects.</summary>
    void Validate(ComponentOptions options);

    /// <summary>Creates the queue; <paramref name="relay"/> is null when the queue names none.</summary>
    IQueue Create(ComponentOptions options, IRelay? relay, ComponentContext context);
}
