using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// A delivery waiting in its destination's line (<see cref="PooledDestination"/>) for a
/// connection slot, or to be sent behind another message on a busy session. Completed exactly
/// once, by whoever takes it out of the line, or canceled while still in it.
/// </summary>
/// <remarks>
/// The waiting delivery goes on as a work item queued with <c>preferLocal</c>, never inline: inline,
/// the completing delivery would run the waiting one's code inside its own (in a <c>finally</c>,
/// or a cancellation callback) and keep its own caller waiting, and the relay chained fewer
/// messages (the next chain point came before the next message arrived; the memory queue relayed
/// 8 % less, docs/benchmarks.md, fifth session). From a pool worker the item stays on that
/// worker's queue and runs once it is done with the completing delivery; from a socket engine
/// thread (where socket continuations run, see SlimtaProgram) it goes to the global queue.
/// </remarks>
internal sealed class WaitingDelivery : IThreadPoolWorkItem
{
    private readonly TaskCompletionSource<Handoff> _handoff = new(TaskCreationOptions.None);
    private Handoff _result;
    private Exception? _failure;
    private CancellationToken _canceled;
    private bool _isCanceled;
    private int _completed;

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
        Claim();
        _result = handoff;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    public void Cancel(CancellationToken cancellationToken)
    {
        Claim();
        _canceled = cancellationToken;
        _isCanceled = true;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    /// <summary>Its own message could not be prepared (for instance the 8-bit converter failed): its attempt fails with that.</summary>
    public void Fail(Exception exception)
    {
        Claim();
        _failure = exception;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    /// <summary>
    /// Only whoever took it out of the line completes it, once: a second completion would overwrite
    /// the first (a session handed on, then lost) and queue the item twice.
    /// </summary>
    private void Claim()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            throw new InvalidOperationException("A waiting delivery was completed twice.");
        }
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
