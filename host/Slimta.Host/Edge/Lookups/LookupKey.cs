namespace Slimta.Host.Edge.Lookups;

/// <summary>The parts of an address a lookup key or query may use: <c>{address}</c>, <c>{localpart}</c>, <c>{domain}</c>.</summary>
public static class LookupKey
{
    /// <summary>The local-part (everything before the last <c>@</c>; the whole text when there is none).</summary>
    public static string LocalPart(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 ? address : address[..at];
    }

    /// <summary>The domain (after the last <c>@</c>), or empty.</summary>
    public static string Domain(string address)
    {
        int at = address.LastIndexOf('@');
        return at < 0 ? string.Empty : address[(at + 1)..];
    }

    /// <summary>Fills <paramref name="template"/> with the parts of <paramref name="address"/>.</summary>
    public static string Expand(string template, string address) => template
        .Replace("{address}", address, StringComparison.Ordinal)
        .Replace("{localpart}", LocalPart(address), StringComparison.Ordinal)
        .Replace("{domain}", Domain(address), StringComparison.Ordinal);
}
