using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Queueing;

/// <summary>A message as a storage holds it.</summary>
/// <param name="Id">The queue id.</param>
/// <param name="Envelope">The envelope with its ORIGINAL recipient list.</param>
/// <param name="Attempts">Delivery attempts so far.</param>
/// <param name="NextAttempt">When the next attempt is due.</param>
/// <param name="Delivered">Indexes into the original recipient list of recipients already delivered.</param>
public sealed record StoredMessage(
    string Id,
    Envelope Envelope,
    int Attempts,
    DateTimeOffset NextAttempt,
    IReadOnlySet<int> Delivered);
