using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>Makes a relay's attempt end when the engine cancels it (shutdown), like a real relay does.</summary>
internal sealed class CancellableRelay(IRelay inner) : IRelay
{
    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken) =>
        await inner.AttemptAsync(envelope, attempts, cancellationToken).AsTask().WaitAsync(cancellationToken);
}
