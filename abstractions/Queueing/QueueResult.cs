using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Abstractions.Queueing;

/// <summary>The result of queueing one envelope.</summary>
/// <param name="Envelope">The envelope (after policies) this result is for.</param>
/// <param name="Id">The queue id when the envelope was accepted, else null.</param>
/// <param name="Reply">
/// A reply the edge must pass to the client instead of its own: the next hop's reply for a
/// proxy queue, or the error when the envelope was not accepted. Null for a plain acceptance.
/// </param>
public sealed record QueueResult(Envelope Envelope, string? Id, Reply? Reply)
{
    /// <summary>True when the queue took responsibility for the envelope.</summary>
    public bool IsAccepted => Reply is null ? Id is not null : Reply.IsSuccess;

    /// <summary>An acceptance with a queue id.</summary>
    public static QueueResult Accepted(Envelope envelope, string id) => new(envelope, id, null);

    /// <summary>A refusal with the reply to give the client.</summary>
    public static QueueResult Failed(Envelope envelope, Reply reply) => new(envelope, null, reply);
}
