using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// Delivers envelopes to one SMTP or LMTP next hop (the <c>static</c> and <c>lmtp</c> relay
/// types) over pooled sessions. Each recipient's outcome follows its deciding reply's class (2xx
/// delivered, 4xx transient, 5xx permanent); a refused or timed-out connection, or a session lost
/// before the final reply, is transient for every recipient. A session lost after the final
/// reply does not change the result.
/// </summary>
public sealed class SmtpRelay : IRelay, IAsyncDisposable
{
    private readonly SmtpConnectionPool _pool;
    private readonly ILogger _logger;

    internal SmtpRelay(SmtpConnector connector, SmtpRelaySettings settings, TimeProvider time, ILogger logger)
    {
        RemoteHost = connector.Remote;
        _logger = logger;
        _pool = new SmtpConnectionPool(connector.OpenAsync, settings.ConcurrentConnections, settings.IdleTimeout, time);
    }

    /// <summary>The next hop as <c>host:port</c>.</summary>
    public string RemoteHost { get; }

    /// <summary>Sessions opened since the relay was created (a reused session counts once).</summary>
    public int ConnectionsOpened => _pool.Opened;

    /// <inheritdoc />
    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        int count = envelope.Recipients.Count;
        if (count == 0)
        {
            return new RelayResult([], RemoteHost);
        }
        var session = await _pool.AcquireAsync(cancellationToken).ConfigureAwait(false);
        if (session.Client is not { } client)
        {
            return ForAll(count, session.Failure!);
        }
        try
        {
            var result = await client.SendMessageAsync(envelope.Sender, envelope.Recipients, envelope.Message.Bytes, envelope.SmtpUtf8, cancellationToken).ConfigureAwait(false);
            var recipients = result.RecipientReplies.Select(RecipientResult.FromReply).ToList();
            _logger.LogInformation("Relayed {Id} to {Remote}: {Delivered}/{Count} delivered, {Reply}",
                envelope.Id, RemoteHost, recipients.Count(r => r.Outcome == DeliveryOutcome.Delivered), count, result.RecipientReplies[^1]);
            return new RelayResult(recipients, RemoteHost);
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            // Lost before the final reply: the next hop did not take the message (RFC 5321 §4.1.1.4
            // makes the final reply the moment of responsibility), so every recipient is retried.
            _logger.LogWarning("Delivery of {Id} to {Remote} failed: {Error}", envelope.Id, RemoteHost, e.Message);
            var code = e is SmtpTimeoutException ? "timed out" : "connection lost";
            return RelayResult.Transient(count, new Reply(451, "4.4.2", $"{RemoteHost}: {code}: {e.Message}"), RemoteHost);
        }
        finally
        {
            _pool.Release(client);
        }
    }

    /// <summary>Closes the idle sessions (QUIT).</summary>
    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    private RelayResult ForAll(int count, Reply reply)
    {
        // A session that could not be opened never delivers, whatever odd code explained it.
        if (reply.Code < 400)
        {
            reply = new Reply(451, "4.5.0", "unexpected reply while opening the session: " + reply);
        }
        var one = RecipientResult.FromReply(reply);
        return RelayResult.ForAll(count, one.Outcome, reply, RemoteHost);
    }
}
