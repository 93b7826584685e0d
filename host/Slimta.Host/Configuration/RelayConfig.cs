using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Configuration;

/// <summary><c>relay.NAME</c>.</summary>
/// <param name="Name">The relay name.</param>
/// <param name="Type">The relay type (<c>mx</c>, <c>static</c>, <c>custom</c>, …), as written.</param>
/// <param name="Factory">For <c>custom</c>: <c>Assembly:Namespace.Type.Method</c>; else null.</param>
/// <param name="Options">The relay's mapping; host keys <c>type</c>, <c>policies</c>, <c>factory</c> are allowed.</param>
/// <param name="Policies">
/// Relay-time policies (<c>relay.NAME.policies</c>) in order: run on a copy of the envelope before
/// every attempt through this relay, from any queue type; never stored. Each one's options allow
/// the host key <c>type</c>.
/// </param>
public sealed record RelayConfig(string Name, string Type, string? Factory, ComponentOptions Options, IReadOnlyList<ComponentOptions> Policies)
{
    /// <inheritdoc />
    public bool Equals(RelayConfig? other) =>
        other is not null && Name == other.Name && Type == other.Type && Factory == other.Factory
        && ConfigEquality.Same(Policies, other.Policies) && ConfigEquality.Same(Options, other.Options);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Type);
}
