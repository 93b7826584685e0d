using Slimta.Host.Edge.Lookups;

namespace Slimta.Host.Edge;

/// <summary>
/// A <c>lookup_senders</c>/<c>lookup_recipients</c> table of type <c>config</c>: an address is
/// found when the key built from <see cref="KeyTemplate"/> is in <see cref="Keys"/>
/// (case-insensitive). The template may use <c>{address}</c>, <c>{localpart}</c> and <c>{domain}</c>.
/// </summary>
/// <param name="KeyTemplate">The key template (default <c>{address}</c>).</param>
/// <param name="Keys">The keys of the configured map.</param>
public sealed record AddressLookup(string KeyTemplate, IReadOnlySet<string> Keys) : IAddressLookup
{
    /// <summary>True when the address has an entry.</summary>
    public bool Contains(string address) => Keys.Contains(LookupKey.Expand(KeyTemplate, address));

    /// <inheritdoc />
    public ValueTask<bool> ContainsAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(Contains(address));
}
