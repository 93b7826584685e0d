namespace Slimta.Smtp.Dns;

/// <summary>The records of one DNS query, with how the query ended.</summary>
/// <typeparam name="T">The record data (an address, a text, a host name, …).</typeparam>
/// <param name="Status">Found, not found, or an error.</param>
/// <param name="Records">The records when <paramref name="Status"/> is <see cref="DnsStatus.Found"/>, else empty.</param>
public sealed record DnsAnswer<T>(DnsStatus Status, IReadOnlyList<T> Records)
{
    /// <summary>A name without records of the type asked for.</summary>
    public static DnsAnswer<T> NotFound { get; } = new(DnsStatus.NotFound, []);

    /// <summary>A failed query.</summary>
    public static DnsAnswer<T> Error { get; } = new(DnsStatus.Error, []);

    /// <summary>Records found (an empty list is reported as not found).</summary>
    public static DnsAnswer<T> Of(IReadOnlyList<T> records) => records.Count == 0 ? NotFound : new(DnsStatus.Found, records);
}
