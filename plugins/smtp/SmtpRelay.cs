using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

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
    private readonly PooledDestination _destination;

    internal SmtpRelay(PooledDestination destination) => _destination = destination;

    /// <summary>The next hop as <c>host:port</c>.</summary>
    public string RemoteHost => _destination.Remote;

    /// <summary>Sessions opened since the relay was created (a reused session counts once).</summary>
    public int ConnectionsOpened => _destination.ConnectionsOpened;

    /// <summary>Messages sent right behind another message's final dot on a busy session (RFC 2920 §3.1), since the relay was created.</summary>
    public long MessagesChained => _destination.MessagesChained;

    /// <inheritdoc />
    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.Recipients.Count == 0)
        {
            return new RelayResult([], RemoteHost);
        }
        return (await _destination.DeliverAsync(envelope, cancellationToken).ConfigureAwait(false)).Result;
    }

    /// <summary>Closes the idle sessions (QUIT).</summary>
    public ValueTask DisposeAsync() => _destination.DisposeAsync();
}
