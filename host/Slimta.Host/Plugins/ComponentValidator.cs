using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;

namespace Slimta.Host.Plugins;

/// <summary>
/// The Validate step of "Validate then Create": looks up the factory of every configured edge,
/// queue, queue policy, relay and relay-time policy and lets it check its options, before anything is created or any
/// port opened. The first problem is thrown as a <see cref="ConfigException"/> with its key path.
/// </summary>
public static class ComponentValidator
{
    /// <summary>Validates every component of <paramref name="config"/> against <paramref name="registry"/>.</summary>
    /// <exception cref="ConfigException">An unknown type (listing the known ones) or invalid options.</exception>
    public static void ValidateAll(SlimtaConfig config, PluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var relay in config.Relays.Values)
        {
            Guard(relay.Options, () => registry.GetRelay(relay.Options).Validate(relay.Options));
            foreach (var policy in relay.Policies)
            {
                Guard(policy, () => registry.GetRelayPolicy(policy).Validate(policy));
            }
        }
        foreach (var queue in config.Queues.Values)
        {
            var options = queue.Options;
            Guard(options, () =>
            {
                if (registry.IsStorage(queue.Type))
                {
                    registry.GetStorage(options).Validate(options);
                }
                else
                {
                    registry.GetQueueType(options).Validate(options);
                }
            });
            foreach (var policy in queue.Policies)
            {
                Guard(policy, () => registry.GetQueuePolicy(policy).Validate(policy));
            }
        }
        foreach (var edge in config.Edges.Values)
        {
            Guard(edge.Options, () => registry.GetEdge(edge.Options).Validate(edge.Options));
        }
    }

    /// <summary>
    /// A factory should throw <see cref="ConfigException"/>, but one that throws anything else
    /// still must not escape as a crash without the component's path.
    /// </summary>
    private static void Guard(ComponentOptions options, Action validate)
    {
        try
        {
            validate();
        }
        catch (Exception ex) when (ex is not ConfigException and not OutOfMemoryException)
        {
            throw new ConfigException(options.Path, $"invalid options: {ex.Message}", options.Map.Location, ex);
        }
    }
}
