using System.Text.RegularExpressions;
using Slimta.Abstractions.Envelopes;
using Slimta.Host.Edge.Lookups;

namespace Slimta.Host.Edge;

/// <summary>
/// Which senders (or recipients) an SMTP edge accepts: <c>only_*</c>, <c>regex_*</c> and
/// <c>lookup_*</c> of the edge <c>rules</c>. Every configured kind must allow the address (as in
/// python-slimta, the checks are applied one after the other); with none configured every address
/// is allowed.
/// <list type="bullet">
/// <item><c>only_*</c>: entries are whole addresses (<c>user@example.com</c>) or a domain written
/// <c>@example.com</c>, which allows every address in exactly that domain (not its subdomains);
/// compared case-insensitively. <c>&lt;&gt;</c> stands for the null sender.</item>
/// <item><c>regex_*</c>: .NET regular expressions matched case-insensitively against the whole
/// address (they are anchored at both ends, so <c>.*@example\.com</c> does not allow
/// <c>x@example.com.evil</c>); the address is allowed when one of them matches.</item>
/// <item><c>lookup_*</c>: the address must be found in the lookup table.</item>
/// </list>
/// The null sender is matched as the empty string by regexes and lookups.
/// </summary>
/// <param name="Only">Allowed addresses and <c>@domain</c> entries; empty when not configured.</param>
/// <param name="Patterns">Anchored patterns; empty when not configured.</param>
/// <param name="Lookup">The lookup table, or null.</param>
public sealed record AddressRules(IReadOnlyList<string> Only, IReadOnlyList<Regex> Patterns, IAddressLookup? Lookup)
{
    /// <summary>Rules that allow every address.</summary>
    public static AddressRules AllowAll { get; } = new([], [], null);

    /// <summary>True when no rule is configured.</summary>
    public bool IsEmpty => Only.Count == 0 && Patterns.Count == 0 && Lookup is null;

    /// <summary>True when every configured rule allows <paramref name="address"/>.</summary>
    public bool IsAllowed(string address) => MatchesStatic(address) && (Lookup is null || (Lookup is AddressLookup config
        ? config.Contains(address)
        : throw new InvalidOperationException("This lookup must be asked with IsAllowedAsync.")));

    /// <summary>True when every configured rule allows <paramref name="address"/>; throws when the lookup table cannot be asked.</summary>
    public async ValueTask<bool> IsAllowedAsync(string address, CancellationToken cancellationToken) =>
        MatchesStatic(address) && (Lookup is null || await Lookup.ContainsAsync(address, cancellationToken).ConfigureAwait(false));

    private bool MatchesStatic(string address) =>
        (Only.Count == 0 || MatchesOnly(address)) && (Patterns.Count == 0 || Patterns.Any(p => p.IsMatch(address)));

    private bool MatchesOnly(string address)
    {
        string domain = Envelope.DomainOf(address);
        foreach (var entry in Only)
        {
            if (entry == "<>" ? address.Length == 0
                : entry.StartsWith('@') ? domain.Length > 0 && string.Equals(entry[1..], domain, StringComparison.OrdinalIgnoreCase)
                : string.Equals(entry, address, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
