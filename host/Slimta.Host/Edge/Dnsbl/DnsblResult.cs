namespace Slimta.Host.Edge.Dnsbl;

/// <summary>The outcome of checking one client address against the DNSBL zones.</summary>
/// <param name="ListedBy">The first zone listing the address, or null.</param>
/// <param name="Failed">Zones whose lookup failed (not counted as listed).</param>
public sealed record DnsblResult(string? ListedBy, IReadOnlyList<string> Failed)
{
    /// <summary>True when a zone lists the address.</summary>
    public bool IsListed => ListedBy is not null;
}
