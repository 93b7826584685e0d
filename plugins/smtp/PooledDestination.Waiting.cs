using Slimta.Abstractions.Envelopes;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

// Connection slots, the line of waiting deliveries, and sending a message behind another.
//
// A destination has concurrent_connections slots; a delivery needs one to take or open a
// session. One that finds none free waits in line, and a delivery that ends hands its slot to
// the first in line (Finish), so slots are never free while deliveries wait.
//
// Sending behind another (RFC 2920 §3.1: the message content may be the first "command" of a
// pipelined group): a session that has written a transaction's MAIL, RCPT and DATA has a
// "window" open until it learns whether the message will be sent. When it sends the message it
// takes the first delivery in line, writes that one's MAIL, RCPT and DATA in the same write right
// behind the final dot, and hands the session (with its slot) on to it: the second message's
// replies come back with the first one's final reply, one round trip per message instead of two
// (docs/benchmarks.md). A delivery that finds more windows open than deliveries waiting lines up
// even when a slot is free, so a busy next hop gets its messages back to back on few sessions; it
// never waits longer than the window's session takes to finish, as that session hands it its slot
// at the latest. Waiting deliveries are only ever taken from the front of the line: the order in
// which messages wait is the order in which they go.
internal sealed partial class PooledDestination
{
    /// <summary>
    /// Only a message that goes in one write opens a window: a delivery waiting behind a large
    /// message would wait for all of it, where an idle session could have sent it at once.
    /// </summary>
    internal const int ChainableSize = 64 * 1024;

    private readonly Lock _lineLock = new();
    private readonly LinkedList<WaitingDelivery> _line = new();
    private int _freeSlots;
    private int _windows;
    private long _chained;

    /// <summary>Messages sent behind another message on a busy session so far.</summary>
    public long MessagesChained => Interlocked.Read(ref _chained);

    /// <summary>
    /// Null when the delivery took a free slot; else its place in line (at the front for one whose
    /// carrier failed). A chainable delivery lines up whenever more windows are open than
    /// deliveries wait, even with a slot free.
    /// </summary>
    private WaitingDelivery? Admit(Envelope envelope, bool chainable, bool front)
    {
        lock (_lineLock)
        {
            if (!(chainable && _windows > _line.Count) && _freeSlots > 0)
            {
                _freeSlots--;
                return null;
            }
            var waiting = new WaitingDelivery(envelope, chainable);
            waiting.Node = front ? _line.AddFirst(waiting) : _line.AddLast(waiting);
            return waiting;
        }
    }

    /// <summary>
    /// Waits to be taken. Canceled only while still in line: once taken it holds a slot (or its
    /// commands may be on the wire already), which must be passed on.
    /// </summary>
    private static async Task<Handoff> WaitAsync(WaitingDelivery waiting, PooledDestination destination, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return await waiting.Handoff.ConfigureAwait(false);
        }
        using var registration = cancellationToken.UnsafeRegister(
            static (state, token) =>
            {
                var (owner, delivery) = ((PooledDestination, WaitingDelivery))state!;
                owner.Withdraw(delivery, token);
            },
            (destination, waiting));
        return await waiting.Handoff.ConfigureAwait(false);
    }

    private void Withdraw(WaitingDelivery waiting, CancellationToken cancellationToken)
    {
        lock (_lineLock)
        {
            if (waiting.Node is not { } node)
            {
                return;
            }
            _line.Remove(node);
            waiting.Node = null;
        }
        waiting.Cancel(cancellationToken);
    }

    /// <summary>
    /// A delivery holding a slot is done: its session (if any) goes back to the pool, and its slot
    /// to the first delivery in line, or is freed.
    /// </summary>
    private void Finish(SmtpClient? client)
    {
        if (client is not null)
        {
            _pool.Return(client);
        }
        WaitingDelivery next;
        lock (_lineLock)
        {
            if (_line.First is not { } first)
            {
                _freeSlots++;
                return;
            }
            next = first.Value;
            _line.RemoveFirst();
            next.Node = null;
        }
        next.Complete(new Handoff(HandoffKind.Slot));
    }

    private void OpenWindow()
    {
        lock (_lineLock)
        {
            _windows++;
        }
    }

    private void ShutWindow()
    {
        lock (_lineLock)
        {
            _windows--;
        }
    }

    /// <summary>
    /// Closes the carrier's window. With <paramref name="chain"/> (its message will be sent) the
    /// first delivery in line, when chainable, is taken and prepared on <paramref name="client"/>;
    /// its own window opens in the same step when its message goes in one write. One the client
    /// refuses itself is answered at once, one that cannot be prepared fails with the reason, and
    /// the next is taken.
    /// </summary>
    private (WaitingDelivery? Next, SmtpClientTransaction? Transaction, bool Window) CloseWindow(SmtpClient client, bool chain)
    {
        bool carrierWindow = true;
        while (true)
        {
            WaitingDelivery next;
            bool window;
            lock (_lineLock)
            {
                if (carrierWindow)
                {
                    _windows--;
                    carrierWindow = false;
                }
                if (!chain || _line.First is not { Value.Chainable: true } first)
                {
                    return (null, null, false);
                }
                next = first.Value;
                _line.RemoveFirst();
                next.Node = null;
                window = next.Envelope.Message.Bytes.Length <= ChainableSize;
                if (window)
                {
                    _windows++;
                }
            }
            var envelope = next.Envelope;
            SmtpClientTransaction transaction;
            DestinationResult? refused = null;
            try
            {
                transaction = client.Prepare(envelope.Sender, envelope.Recipients, envelope.Message.Bytes, envelope.SmtpUtf8);
                if (transaction.Result is { } decided)
                {
                    refused = ToResult(envelope, decided);
                }
            }
            catch (Exception e)
            {
                // Its failure is its own (a converter's, say), not the carrier's, whose server
                // waits for its message data right now.
                if (window)
                {
                    ShutWindow();
                }
                next.Fail(e);
                continue;
            }
            if (refused is { } result)
            {
                if (window)
                {
                    ShutWindow();
                }
                next.Complete(new Handoff(HandoffKind.Decided, Result: result));
                continue;
            }
            return (next, transaction, window);
        }
    }

    /// <summary>A delivery taken to be chained is carried on after all: it has the session and the slot now.</summary>
    private void HandOn(WaitingDelivery next, SmtpClient client, SmtpClientTransaction transaction, bool window)
    {
        Interlocked.Increment(ref _chained);
        next.Complete(new Handoff(HandoffKind.Chained, client, transaction, Window: window));
    }

    /// <summary>A delivery taken to be chained that will not be carried after all: nothing of it was sent.</summary>
    private void Abandon(WaitingDelivery next, bool window)
    {
        if (window)
        {
            ShutWindow();
        }
        next.Complete(new Handoff(HandoffKind.Retry));
    }
}
