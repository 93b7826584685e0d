using System.Collections.Concurrent;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>A relay that records every attempt (id and attempt count) and answers with <paramref name="answer"/>.</summary>
internal sealed class CountingRelay(Func<Envelope, int, Task<RelayResult>> answer) : IRelay
{
    public ConcurrentQueue<(string Id, int Attempts, string Relay)> Calls { get; } = new();

    public string Name { get; init; } = "relay";

    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        Calls.Enqueue((envelope.Id!, attempts, Name));
        return await answer(envelope, attempts);
    }

    public static CountingRelay DeliverAll(string name) =>
        new((env, _) => Task.FromResult(RelayResult.Delivered(env.Recipients.Count, new Reply(250, "2.0.0", "ok")))) { Name = name };
}
