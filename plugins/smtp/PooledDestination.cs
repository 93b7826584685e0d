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
internal sealed class PooledDestination : IAsyncDisposable
{
    private readonly SmtpConnectionPool _pool;
    private readonly ILogger _logger;
    private readonly int _maxStale;
    private readonly TimeProvider _time;
    private readonly Lock _useLock = new();
    private int _inUse;
    private long _lastUsed;
    private bool _retired;

    public PooledDestination(SmtpConnector connector, SmtpRelaySettings settings, TimeProvider time, ILogger logger)
    {
        Remote = connector.Remote;
        _logger = logger;
        _time = time;
        _lastUsed = time.GetTimestamp();
        _pool = new SmtpConnectionPool(connector.OpenAsync, settings.ConcurrentConnections, settings.IdleTimeout, time);
        _maxStale = settings.ConcurrentConnections + 1;
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
        // may have gone stale at once (the next hop restarted).
        for (int stale = 0; ; stale++)
        {
            var session = await _pool.AcquireAsync(cancellationToken).ConfigureAwait(false);
            if (session.Client is not { } client)
            {
                return NoSession(envelope.Recipients.Count, session.Failure!);
            }
            try
            {
                return await SendAsync(client, envelope, session.Reused, lastTry: stale >= _maxStale, cancellationToken).ConfigureAwait(false);
            }
            catch (SmtpStaleSessionException e) when (stale < _maxStale)
            {
                _logger.LogDebug("Reused session to {Remote} is stale ({Error}); trying another", Remote, e.Message);
            }
            finally
            {
                _pool.Release(client);
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

    private async Task<DestinationResult> SendAsync(SmtpClient client, Envelope envelope, bool resetFirst, bool lastTry, CancellationToken cancellationToken)
    {
        int count = envelope.Recipients.Count;
        try
        {
            var result = await client.SendMessageAsync(envelope.Sender, envelope.Recipients, envelope.Message.Bytes, envelope.SmtpUtf8, resetFirst, cancellationToken).ConfigureAwait(false);
            var replies = result.RecipientReplies;
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
                    envelope.Id, Remote, delivered, count, replies[^1]);
            }
            return new DestinationResult(new RelayResult(recipients, Remote), NoSession: false);
        }
        catch (Exception e) when (e is IOException or TimeoutException && (lastTry || e is not SmtpStaleSessionException))
        {
            // Lost before the final reply: the next hop did not take the message (RFC 5321 §4.1.1.4
            // makes the final reply the moment of responsibility), so every recipient is retried.
            _logger.LogWarning("Delivery of {Id} to {Remote} failed: {Error}", envelope.Id, Remote, e.Message);
            var code = e is SmtpTimeoutException ? "timed out" : "connection lost";
            return new DestinationResult(RelayResult.Transient(count, new Reply(451, "4.4.2", $"{Remote}: {code}: {e.Message}"), Remote), NoSession: false);
        }
    }

    /// <summary>Closes the idle sessions (QUIT).</summary>
    public ValueTask DisposeAsync() => _pool.DisposeAsync();
}
