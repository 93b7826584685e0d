using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

// Reads and writes under the stage timeouts. One timeout source serves the session: it is armed
// (CancelAfter) only while a read or write actually waits for the peer and reset after (TryReset),
// so a relayed message, whose replies mostly arrive together and whose writes complete at once,
// costs a couple of timer updates instead of a timer plus a linked source per read and write.
// A source whose timer has fired is never reused, even when its callback has not run yet: TryReset
// refuses it then, and it is dropped, so a late callback cannot fail a later step (a false timeout
// after the message was sent would have it relayed twice). The caller's token is registered once
// per public operation and cancels whichever source is current.
public sealed partial class SmtpClient
{
    private CancellationTokenSource? _timeout;

    /// <summary>
    /// The timeout source for the next wait: the current one, or a new one when the last was
    /// dropped or canceled. After a swap the caller's token is checked again, since its
    /// registration may have canceled the old source just before (the exchange is a full fence,
    /// so a cancel either finds the new source or is seen here).
    /// </summary>
    private CancellationTokenSource FreshTimer(CancellationToken cancellationToken)
    {
        var timer = Volatile.Read(ref _timeout);
        if (timer is null || timer.IsCancellationRequested)
        {
            timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _options.TimeProvider);
            Interlocked.Exchange(ref _timeout, timer);
            ThrowIfCanceled(cancellationToken);
        }
        return timer;
    }

    /// <summary>Ends a wait: the source is reset for the next one, or dropped when its timer fired.</summary>
    private void Disarm(CancellationTokenSource timer)
    {
        if (!timer.TryReset())
        {
            Interlocked.CompareExchange(ref _timeout, null, timer);
        }
    }

    /// <summary>
    /// Starts a public operation: the session must be usable, the caller's token not canceled.
    /// Dispose the result when the operation ends.
    /// </summary>
    private CancellationTokenRegistration BeginOperation(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsBroken)
        {
            throw new SmtpProtocolException("the SMTP session is broken by an earlier error");
        }
        ThrowIfCanceled(cancellationToken);
        FreshTimer(cancellationToken);
        return cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((SmtpClient)s!).CancelTimeoutQuietly(), this)
            : default;
    }

    /// <summary>
    /// Canceled between two steps of a transaction: the server may be waiting in the middle of it
    /// (replies unread, or in DATA), so the session must never be reused.
    /// </summary>
    private void ThrowIfCanceled(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            IsBroken = true;
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>Reads one reply: at once when it was received already, else waiting at most <paramref name="timeout"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Reply> ReadReplyAsync(SmtpStage stage, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfCanceled(cancellationToken);
        var timer = FreshTimer(cancellationToken);
        try
        {
            if (_reader.TryRead(out var reply))
            {
                return reply;
            }
            timer.CancelAfter(timeout);
            reply = await _reader.ReadAsync(timer.Token).ConfigureAwait(false);
            Disarm(timer);
            return reply;
        }
        catch (Exception e)
        {
            throw Failure(e, stage, timeout, timer, cancellationToken);
        }
    }

    /// <summary>Writes <paramref name="bytes"/>; only a write that has to wait for the peer is timed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, SmtpStage stage, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfCanceled(cancellationToken);
        var timer = FreshTimer(cancellationToken);
        try
        {
            // The token is the timeout source's even while it is not armed: arming it later
            // still cancels the pending write.
            var write = _stream.WriteAsync(bytes, timer.Token);
            if (write.IsCompletedSuccessfully)
            {
                write.GetAwaiter().GetResult();
            }
            else
            {
                timer.CancelAfter(timeout);
                await write.ConfigureAwait(false);
                Disarm(timer);
                timer = FreshTimer(cancellationToken);
            }
            var flush = _stream.FlushAsync(timer.Token);
            if (!flush.IsCompletedSuccessfully)
            {
                timer.CancelAfter(timeout);
                await flush.ConfigureAwait(false);
                Disarm(timer);
            }
        }
        catch (Exception e)
        {
            throw Failure(e, stage, timeout, timer, cancellationToken);
        }
    }

    /// <summary>
    /// What a failed read or write throws; the session is broken either way. A timeout becomes
    /// <see cref="SmtpTimeoutException"/>, the caller's cancellation an
    /// <see cref="OperationCanceledException"/> for its token; anything else is rethrown as it was.
    /// </summary>
    private Exception Failure(Exception e, SmtpStage stage, TimeSpan timeout, CancellationTokenSource timer, CancellationToken cancellationToken)
    {
        IsBroken = true;
        if (cancellationToken.IsCancellationRequested)
        {
            return new OperationCanceledException(cancellationToken);
        }
        if (timer.IsCancellationRequested)
        {
            return new SmtpTimeoutException(stage, timeout);
        }
        ExceptionDispatchInfo.Throw(e);
        return e;
    }

    /// <summary>The caller canceled: cancel whatever waits; the session may have been disposed meanwhile.</summary>
    private void CancelTimeoutQuietly()
    {
        try
        {
            Volatile.Read(ref _timeout)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session is gone; the caller's Cancel must not throw because of it.
        }
    }
}
