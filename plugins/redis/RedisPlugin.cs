using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Redis;

[assembly: SlimtaPlugin(typeof(RedisPlugin))]

namespace Slimta.Plugins.Redis;

/// <summary>
/// Entry point of the redis plugin: registers the queue storage <c>redis</c>, which keeps messages
/// in a Redis database shared by every edge and <c>slimta-worker</c> that points at it.
/// </summary>
public sealed class RedisPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddStorage("redis", new RedisStorageFactory());
    }
}
