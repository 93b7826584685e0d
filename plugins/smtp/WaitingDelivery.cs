using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// A delivery waiting in its destination's line (<see cref="PooledDestination"/>) for a
/// connection slot, or to be sent behind another message on a busy session. Completed exactly
/// once, by whoever takes it out of the line, or canceled while still in it.
/// </summary>
internal sealed class WaitingDelivery
{
    private readonly TaskCompletionSource<Handoff> _handoff = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WaitingDelivery(Envelope envelope, bool chainable)
    {
        Envelope = envelope;
        Chainable = chainable;
    }

    public Envelope Envelope { get; }

    /// <summary>False on a delivery's last try: it waits for a slot of its own.</summary>
    public bool Chainable { get; }

    /// <summary>Its place in the line; null once taken or withdrawn. Guarded by the destination's lock.</summary>
    public LinkedListNode<WaitingDelivery>? Node { get; set; }

    public Task<Handoff> Handoff => _handoff.Task;

    public void Complete(Handoff handoff) => _handoff.TrySetResult(handoff);

    public void Cancel(CancellationToken cancellationToken) => _handoff.TrySetCanceled(cancellationToken);

    /// <summary>Its own message could not be prepared (for instance the 8-bit converter failed): its attempt fails with that.</summary>
    public void Fail(Exception exception) => _handoff.TrySetException(exception);
}
