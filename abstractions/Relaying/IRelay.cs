using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Relaying;

/// <summary>
/// Delivers envelopes to their next hop. A relay reports failures through the returned
/// <see cref="RelayResult"/>; an exception it throws is treated by the queue as a transient
/// failure of every recipient. A relay that holds resources may also implement
/// <see cref="IAsyncDisposable"/>; the host disposes it at shutdown.
/// </summary>
public interface IRelay
{
    /// <summary>Attempts delivery of <paramref name="envelope"/> to every one of its recipients.</summary>
    /// <param name="envelope">The envelope; its recipient list holds only those still to deliver.</param>
    /// <param name="attempts">How many earlier attempts this message had (0 on the first).</param>
    /// <param name="cancellationToken">Cancelled at shutdown.</param>
    ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken);
}
