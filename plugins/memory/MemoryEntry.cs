using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Memory;

/// <summary>
/// One stored message of <see cref="MemoryStorage"/>. The mutable fields are guarded by locking
/// the entry itself.
/// </summary>
internal sealed class MemoryEntry(Envelope envelope, DateTimeOffset nextAttempt)
{
    /// <summary>The private copy of the envelope, with its original recipient list.</summary>
    public Envelope Envelope { get; } = envelope;

    public DateTimeOffset NextAttempt { get; set; } = nextAttempt;

    public int Attempts { get; set; }

    public HashSet<int> Delivered { get; } = [];
}
