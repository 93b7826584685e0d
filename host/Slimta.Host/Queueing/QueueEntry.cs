using Slimta.Abstractions.Queueing;

namespace Slimta.Host.Queueing;

/// <summary>One queued message as the queue admin commands show it (no message body).</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Stored">The message as its storage holds it.</param>
/// <param name="NextAttempt">When the next attempt is due (the engine's own schedule when it has one).</param>
/// <param name="State"><c>queued</c>, <c>held</c> or <c>running</c> (an attempt is under way in this process).</param>
public sealed record QueueEntry(string Queue, StoredMessage Stored, DateTimeOffset NextAttempt, string State)
{
    /// <summary>The queue id.</summary>
    public string Id => Stored.Id;

    /// <summary>Recipients not yet delivered (or bounced), in their original order.</summary>
    public IReadOnlyList<string> PendingRecipients =>
        Stored.Envelope.Recipients.Where((_, i) => !Stored.Delivered.Contains(i)).ToList();
}
