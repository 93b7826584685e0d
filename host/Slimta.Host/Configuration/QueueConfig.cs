using Slimta.Abstractions.Configuration;
using Slimta.Host.Queueing;

namespace Slimta.Host.Configuration;

/// <summary><c>queue.NAME</c>.</summary>
/// <param name="Name">The queue name.</param>
/// <param name="Type">A storage (<c>memory</c>, <c>disk</c>, …), a queue type (<c>proxy</c>) or <c>custom</c>, as written.</param>
/// <param name="Relay">The name of the relay that delivers (it exists), or null for a queue that only stores.</param>
/// <param name="BounceQueue">The name of the queue that delivers bounces (it exists), or null for this queue.</param>
/// <param name="Factory">For <c>custom</c>: <c>Assembly:Namespace.Type.Method</c>; else null.</param>
/// <param name="Policies">Queue policies in order; each one's options allow the host key <c>type</c>.</param>
/// <param name="Retry">The retry block, or null when messages are never retried.</param>
/// <param name="Options">The queue's mapping; host keys <c>type, relay, bounce_queue, bounce, policies, retry, factory</c> are allowed.</param>
public sealed record QueueConfig(
    string Name,
    string Type,
    string? Relay,
    string? BounceQueue,
    string? Factory,
    IReadOnlyList<ComponentOptions> Policies,
    RetryConfig? Retry,
    ComponentOptions Options)
{
    /// <summary>The <c>bounce</c> block: texts, what to attach, delay notices (defaults when absent).</summary>
    public BounceSettings Bounce { get; init; } = BounceSettings.Default;

    /// <inheritdoc />
    public bool Equals(QueueConfig? other) =>
        other is not null && Name == other.Name && Type == other.Type && Relay == other.Relay && BounceQueue == other.BounceQueue
        && Bounce == other.Bounce
        && Factory == other.Factory && Retry == other.Retry && ConfigEquality.Same(Policies, other.Policies)
        && ConfigEquality.Same(Options, other.Options);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Type, Relay);
}
