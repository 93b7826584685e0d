using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary><c>edge.NAME</c>.</summary>
/// <param name="Name">The edge name.</param>
/// <param name="Type">The edge type (<c>smtp</c>, <c>custom</c>, or a plugin's), as written.</param>
/// <param name="Queue">The name of the queue that receives the messages (it exists).</param>
/// <param name="Factory">For <c>custom</c>: <c>Assembly:Namespace.Type.Method</c>; else null.</param>
/// <param name="Options">The edge's mapping; the host keys <c>type</c>, <c>queue</c>, <c>factory</c> are allowed by <see cref="ComponentOptions.RequireKnownKeys"/>.</param>
public sealed record EdgeConfig(string Name, string Type, string Queue, string? Factory, ComponentOptions Options)
{
    /// <inheritdoc />
    public bool Equals(EdgeConfig? other) =>
        other is not null && Name == other.Name && Type == other.Type && Queue == other.Queue && Factory == other.Factory
        && ConfigEquality.Same(Options, other.Options);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Type, Queue);
}
