namespace Slimta.Host.Configuration;

/// <summary>
/// The keys the host itself reads in each kind of component. They are passed to
/// <see cref="Slimta.Abstractions.Configuration.ComponentOptions"/> so a factory's
/// <c>RequireKnownKeys</c> accepts them without listing them.
/// </summary>
public static class HostKeys
{
    /// <summary><c>edge.NAME</c>: type, queue, factory.</summary>
    public static IReadOnlySet<string> Edge { get; } = Set("type", "queue", "factory");

    /// <summary><c>queue.NAME</c>: type, relay, bounce_queue, bounce, policies, retry, factory.</summary>
    public static IReadOnlySet<string> Queue { get; } = Set("type", "relay", "bounce_queue", "bounce", "policies", "retry", "factory");

    /// <summary><c>relay.NAME</c>: type, policies (relay-time policies), factory.</summary>
    public static IReadOnlySet<string> Relay { get; } = Set("type", "policies", "factory");

    /// <summary>A policy (<c>queue.NAME.policies[i]</c>, <c>relay.NAME.policies[i]</c>): type.</summary>
    public static IReadOnlySet<string> Policy { get; } = Set("type");

    private static HashSet<string> Set(params string[] keys) => new(keys, StringComparer.Ordinal);
}
