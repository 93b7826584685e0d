using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Proxy.Tests;

/// <summary>A next hop that answers with a fixed result (or throws), recording what it was given.</summary>
internal sealed class FixedRelay(Func<Envelope, RelayResult> answer) : IRelay
{
    public List<(Envelope Envelope, int Attempts, string? IdAtCall)> Calls { get; } = [];

    public ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        Calls.Add((envelope, attempts, envelope.Id));
        return ValueTask.FromResult(answer(envelope));
    }
}
