using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Local;

/// <summary>A relay that reports every recipient delivered and keeps nothing.</summary>
internal sealed class BlackholeRelay : IRelay
{
    internal static readonly Reply DiscardedReply = new(250, "2.0.0", "Ok: discarded");

    public ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(RelayResult.Delivered(envelope.Recipients.Count, DiscardedReply));
    }
}
