using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// A delivery waiting in its destination's line (<see cref="PooledDestination"/>) for a
/// connection slot, or to be sent behind another message on a busy session. Completed exactly
/// once, by whoever takes it out of the line, or canceled while still in it.
/// </summary>
/// <remarks>
/// The waiting delivery goes on as a work item queued to the completing thread's own queue
/// (<c>preferLocal</c>), not inline and not through the pool's global queue: inline, the
/// completing delivery would run the waiting one's code inside its own (in a <c>finally</c>, or a
/// cancellation callback) and keep its own caller waiting; through the global queue, every chained
/// message woke a second worker thread, which cost the proxy queue 15 % (docs/benchmarks.md,
/// fifth session). From the local queue the same thread runs it as soon as it is done with the
/// completing delivery.
/// </remarks>
internal sealed class WaitingDelivery : IThreadPoolWorkItem
{
    private readonly TaskCompletionSource<Handoff> _handoff = new(TaskCreationOptions.None);
    private Handoff _result;
    private Exception? _failure;
    private CancellationToken _canceled;
    private bool _isCanceled;

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

    public void Complete(Handoff handoff)
    {
        _result = handoff;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    public void Cancel(CancellationToken cancellationToken)
    {
        _canceled = cancellationToken;
        _isCanceled = true;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    /// <summary>Its own message could not be prepared (for instance the 8-bit converter failed): its attempt fails with that.</summary>
    public void Fail(Exception exception)
    {
        _failure = exception;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    void IThreadPoolWorkItem.Execute()
    {
        if (_isCanceled)
        {
            _handoff.TrySetCanceled(_canceled);
        }
        else if (_failure is { } failure)
        {
            _handoff.TrySetException(failure);
        }
        else
        {
            _handoff.TrySetResult(_result);
        }
    }
}
