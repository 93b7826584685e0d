using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Memory;

/// <summary>Builds <see cref="MemoryStorage"/>; the <c>memory</c> type has no keys of its own.</summary>
internal sealed class MemoryStorageFactory : IComponentFactory<IQueueStorage>
{
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type");
    }

    public IQueueStorage Create(ComponentOptions options, ComponentContext context)
    {
        Validate(options);
        return new MemoryStorage();
    }
}
