using System.Collections.Concurrent;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>A relay that records every attempt (id, attempts, relay name) and delivers.</summary>
internal sealed class CountingRelay(string name) : IRelay
{
    public ConcurrentQueue<(string Id, int Attempts, string Relay)> Calls { get; } = new();

    public ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        Calls.Enqueue((envelope.Id!, attempts, name));
        return ValueTask.FromResult(RelayResult.Delivered(envelope.Recipients.Count, new Reply(250, "2.0.0", "ok")));
    }
}
