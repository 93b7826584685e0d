namespace Slimta.Host.Edge.Lookups;

/// <summary>
/// A <c>lookup_senders</c>/<c>lookup_recipients</c> table. Implementations throw when the table
/// cannot be asked (a server down, a bad query): the edge answers 451 then, never lets the
/// address through.
/// </summary>
public interface IAddressLookup
{
    /// <summary>True when the table has an entry for <paramref name="address"/>.</summary>
    ValueTask<bool> ContainsAsync(string address, CancellationToken cancellationToken);
}
