using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// One next hop with its pool of sessions and its connect pipeline (retry, circuit breaker). Each
/// recipient's outcome follows its deciding reply's class (2xx delivered, 4xx transient, 5xx
/// permanent); a session lost before the final reply is transient for every recipient; a session
/// lost after the final reply does not change the result.
/// </summary>
internal sealed partial class PooledDestination : IAsyncDisposable
{
    private readonly SmtpConnectionPool _pool;
    private readonly ILogger _logger;
    private readonly int _maxStale;
    private readonly TimeProvider _time;
    private readonly Lock _useLock = new();
    private int _inUse;
    private long _lastUsed;
    private bool _retired;
    private readonly bool _chaining;

    public PooledDestination(SmtpConnector connector, SmtpRelaySettings settings, TimeProvider time, ILogger logger)
    {
        Remote = connector.Remote;
        _logger = logger;
        _time = time;
        _lastUsed = time.GetTimestamp();
        _pool = new SmtpConnectionPool(connector.OpenAsync, settings.IdleTimeout, time);
        _freeSlots = settings.ConcurrentConnections;
        _maxStale = settings.ConcurrentConnections + 1;
        _chaining = settings.ChainMessages;
    }

    /// <summary><c>host:port</c>.</summary>
    public string Remote { get; }

    /// <summary>Sessions opened so far.</summary>
    public int ConnectionsOpened => _pool.Opened;

    /// <summary>Idle sessions kept for reuse.</summary>
    public int IdleCount => _pool.IdleCount;

    /// <summary>
    /// Marks a delivery as starting; false when the destination was retired (take a new one).
    /// Every true must be followed by <see cref="Exit"/>.
    /// </summary>
    public bool TryEnter()
    {
        lock (_useLock)
        {
            if (_retired)
            {
                return false;
            }
            _inUse++;
            return true;
        }
    }

    /// <summary>Marks a delivery begun with <see cref="TryEnter"/> as finished.</summary>
    public void Exit()
    {
        lock (_useLock)
        {
            _inUse--;
            _lastUsed = _time.GetTimestamp();
        }
    }

    /// <summary>
    /// Retires the destination when no delivery used it for <paramref name="unused"/> and it keeps
    /// no idle session; a retired destination takes no more deliveries and can be disposed. True
    /// only for the call that retired it.
    /// </summary>
    public bool TryRetire(TimeSpan unused)
    {
        lock (_useLock)
        {
            if (_retired || _inUse > 0 || _pool.IdleCount > 0 || _time.GetElapsedTime(_lastUsed) < unused)
            {
                return false;
            }
            _retired = true;
            return true;
        }
    }

    /// <summary>Sends <paramref name="envelope"/> (every one of its recipients) in one transaction.</summary>
    public async Task<DestinationResult> DeliverAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        // A reused session whose RSET fails (dropped while idle) is thrown away and the message goes
        // on the next one, or on a new session once the idle ones are used up: nothing was handed
        // over, so this is not a failed attempt. Bounded by the pool size, as every idle session
        // may have gone stale at once (the next hop restarted). A message sent behind another
        // whose session failed before its DATA reply is in the same position.
        bool front = false;
        for (int stale = 0; ; stale++)
        {
            bool lastTry = stale >= _maxStale;
            SmtpClient? client = null;
            SmtpClientTransaction? chained = null;
            bool window = false;
            bool reused = true;
            if (Admit(envelope, chainable: !lastTry, front) is { } waiting)
            {
                var handoff = await WaitAsync(waiting, this, cancellationToken).ConfigureAwait(false);
                switch (handoff.Kind)
                {
                    case HandoffKind.Decided:
                        return handoff.Result!.Value;
                    case HandoffKind.Retry:
                        // Its carrier failed before it was read: it had waited its turn already.
                        front = true;
                        continue;
                    case HandoffKind.Chained:
                        client = handoff.Client;
                        chained = handoff.Transaction;
                        window = handoff.Window;
                        break;
                }
            }
            front = false;
            // From here on this delivery holds a connection slot (with the session it was handed,
            // if any) and passes it on when done (Finish), or to the delivery it carries.
            bool handedOn = false;
            try
            {
                if (client is null)
                {
                    var session = await _pool.OpenAsync(cancellationToken).ConfigureAwait(false);
                    if (session.Client is not { } opened)
                    {
                        return NoSession(envelope.Recipients.Count, session.Failure!);
                    }
                    client = opened;
                    reused = session.Reused;
                }
                var (result, passed) = await SendAsync(client, envelope, chained, window, reused, lastTry, cancellationToken).ConfigureAwait(false);
                handedOn = passed;
                return result;
            }
            catch (SmtpStaleSessionException e) when (stale < _maxStale)
            {
                _logger.LogDebug("Reused session to {Remote} is stale ({Error}); trying another", Remote, e.Message);
                // A chained delivery had waited its turn already.
                front = chained is not null;
            }
            finally
            {
                if (!handedOn)
                {
                    Finish(client);
                }
            }
        }
    }

    private DestinationResult NoSession(int count, Reply reply)
    {
        // A session that could not be opened never delivers, whatever odd code explained it.
        if (reply.Code < 400)
        {
            reply = new Reply(451, "4.5.0", "unexpected reply while opening the session: " + reply);
        }
        var one = RecipientResult.FromReply(reply);
        return new DestinationResult(RelayResult.ForAll(count, one.Outcome, reply, Remote), NoSession: true);
    }

    /// <summary>
    /// One transaction on <paramref name="client"/>: a new one, or <paramref name="chained"/>, whose
    /// commands were written behind the previous message (holding an open window when
    /// <paramref name="chainedWindow"/>). When the message is about to be sent and a delivery
    /// waits, that delivery's commands go behind it and the session is handed on to it
    /// (HandedOn: the caller must not pass the session or the slot on itself).
    /// </summary>
    private async Task<(DestinationResult Result, bool HandedOn)> SendAsync(SmtpClient client, Envelope envelope, SmtpClientTransaction? chained, bool chainedWindow, bool resetFirst, bool lastTry, CancellationToken cancellationToken)
    {
        int count = envelope.Recipients.Count;
        bool inWindow = chained is not null && chainedWindow;
        // Outside the try: a message that cannot be prepared (a converter failing) fails alone,
        // and the session, which saw nothing of it, stays usable.
        var transaction = chained ?? client.Prepare(envelope.Sender, envelope.Recipients, envelope.Message.Bytes, envelope.SmtpUtf8);
        try
        {
            if (transaction.Result is { } refused)
            {
                return (ToResult(envelope, refused), false);
            }
            if (chained is null)
            {
                if (_chaining && client.CanChain && envelope.Message.Bytes.Length <= ChainableSize)
                {
                    OpenWindow();
                    inWindow = true;
                }
                await client.BeginAsync(transaction, resetFirst, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await client.ReadChainedAsync(transaction, cancellationToken).ConfigureAwait(false);
            }

            WaitingDelivery? next = null;
            SmtpClientTransaction? nextTransaction = null;
            bool nextWindow = false;
            if (inWindow)
            {
                inWindow = false;
                (next, nextTransaction, nextWindow) = CloseWindow(client, chain: transaction.WillSendMessage && client.CanChain);
            }
            SmtpClientTransaction? written = null;
            DestinationResult result;
            try
            {
                var sent = await client.FinishAsync(transaction, nextTransaction, cancellationToken).ConfigureAwait(false);
                if (next is not null && nextTransaction!.GroupWritten && !client.IsBroken && !Closing(sent))
                {
                    written = nextTransaction;
                }
                result = ToResult(envelope, sent);
            }
            catch
            {
                if (next is not null)
                {
                    client.MarkBroken();
                    Abandon(next, nextWindow);
                }
                throw;
            }
            if (next is not null)
            {
                if (written is not null)
                {
                    // Last: from here on the session and the slot are the next delivery's.
                    HandOn(next, client, written, nextWindow);
                    return (result, true);
                }
                // Its commands may be on the wire with their replies unread (the server may even
                // be waiting for its message): the session must never be reused.
                client.MarkBroken();
                Abandon(next, nextWindow);
            }
            return (result, false);
        }
        catch (Exception e) when (e is IOException or TimeoutException && (lastTry || e is not SmtpStaleSessionException))
        {
            // Lost before the final reply: the next hop did not take the message (RFC 5321 §4.1.1.4
            // makes the final reply the moment of responsibility), so every recipient is retried.
            _logger.LogWarning("Delivery of {Id} to {Remote} failed: {Error}", envelope.Id, Remote, e.Message);
            var code = e is SmtpTimeoutException ? "timed out" : "connection lost";
            return (new DestinationResult(RelayResult.Transient(count, new Reply(451, "4.4.2", $"{Remote}: {code}: {e.Message}"), Remote), NoSession: false), false);
        }
        catch
        {
            // Whatever failed, the session may be in the middle of a transaction (even in DATA):
            // it must not go back to the pool as if idle.
            client.MarkBroken();
            throw;
        }
        finally
        {
            if (inWindow)
            {
                ShutWindow();
            }
        }
    }

    private DestinationResult ToResult(Envelope envelope, SmtpTransactionResult sent)
    {
        var replies = sent.RecipientReplies;
        var recipients = new RecipientResult[replies.Count];
        int delivered = 0;
        for (int i = 0; i < recipients.Length; i++)
        {
            recipients[i] = RecipientResult.FromReply(replies[i]);
            delivered += recipients[i].Outcome == DeliveryOutcome.Delivered ? 1 : 0;
        }
        // Checked first: boxing the arguments costs per message even when unlogged.
        if (_logger.IsEnabled(LogLevel.Information))
        {
            _logger.LogInformation("Relayed {Id} to {Remote}: {Delivered}/{Count} delivered, {Reply}",
                envelope.Id, Remote, delivered, replies.Count, replies.Count > 0 ? replies[^1] : null);
        }
        return new DestinationResult(new RelayResult(recipients, Remote), NoSession: false);
    }

    /// <summary>A final reply of 421: the server is closing the session (RFC 5321 §3.8), nothing more goes on it.</summary>
    private static bool Closing(SmtpTransactionResult sent)
    {
        foreach (var reply in sent.RecipientReplies)
        {
            if (reply.Code == 421)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Closes the idle sessions (QUIT).</summary>
    public ValueTask DisposeAsync() => _pool.DisposeAsync();
}
