using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// Builds the <c>rackspace</c> storage (keys in <see cref="RackspaceSettings"/>). Creating it makes
/// no call: Rackspace may be unreachable when the process starts. The token, the container and the
/// queue are obtained or created by the first call that needs them, and again after a failure.
/// </summary>
internal sealed class RackspaceStorageFactory : IComponentFactory<IQueueStorage>
{
    public void Validate(ComponentOptions options) => RackspaceSettings.Parse(options);

    public IQueueStorage Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var settings = RackspaceSettings.Parse(options);
        var client = RackspaceTransport.CreateClient(settings, context, options);
        return RackspaceStorage.Create(settings, client, context.Time, context.Loggers.CreateLogger("slimta.queue.rackspace"));
    }
}
