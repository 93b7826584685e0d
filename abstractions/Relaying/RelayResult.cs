namespace Slimta.Abstractions.Relaying;

/// <summary>
/// The result of one delivery attempt: one <see cref="RecipientResult"/> per recipient of the
/// envelope that was attempted, in the same order.
/// </summary>
public sealed class RelayResult
{
    /// <summary>Creates a result from per-recipient results.</summary>
    public RelayResult(IReadOnlyList<RecipientResult> recipients, string? remoteHost = null)
    {
        Recipients = recipients;
        RemoteHost = remoteHost;
    }

    /// <summary>One result per recipient, in envelope order.</summary>
    public IReadOnlyList<RecipientResult> Recipients { get; }

    /// <summary>The next hop that answered (for the DSN's Remote-MTA field), when known.</summary>
    public string? RemoteHost { get; }

    /// <summary>The same outcome and reply for every one of <paramref name="count"/> recipients.</summary>
    public static RelayResult ForAll(int count, DeliveryOutcome outcome, Reply reply, string? remoteHost = null)
    {
        var list = new RecipientResult[count];
        Array.Fill(list, new RecipientResult(outcome, reply));
        return new RelayResult(list, remoteHost);
    }

    /// <summary>Every recipient delivered with <paramref name="reply"/>.</summary>
    public static RelayResult Delivered(int count, Reply reply, string? remoteHost = null) =>
        ForAll(count, DeliveryOutcome.Delivered, reply, remoteHost);

    /// <summary>Every recipient failed transiently with <paramref name="reply"/>.</summary>
    public static RelayResult Transient(int count, Reply reply, string? remoteHost = null) =>
        ForAll(count, DeliveryOutcome.TransientFailure, reply, remoteHost);

    /// <summary>Every recipient failed permanently with <paramref name="reply"/>.</summary>
    public static RelayResult Permanent(int count, Reply reply, string? remoteHost = null) =>
        ForAll(count, DeliveryOutcome.PermanentFailure, reply, remoteHost);

    /// <summary>True when every recipient was delivered.</summary>
    public bool AllDelivered => Recipients.All(r => r.Outcome == DeliveryOutcome.Delivered);
}
