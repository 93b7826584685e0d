using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Queueing;

/// <summary>
/// A queue policy runs once when a message enters the queue, before it is stored. It may change
/// the envelope in place (add headers, rewrite recipients) or split it into several envelopes.
/// An exception it throws refuses the message with a transient error (451), except
/// <see cref="QueuePolicyRejectedException"/>, whose reply (a 5xx) the client gets instead.
/// </summary>
public interface IQueuePolicy
{
    /// <summary>
    /// Applies the policy. Returns null when the result is just <paramref name="envelope"/>
    /// (possibly changed in place), or the envelopes that replace it.
    /// </summary>
    ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken);
}
