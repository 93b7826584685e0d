using System.Collections.Concurrent;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Host.Tests.Edge;

/// <summary>A queue that records what the edge hands it; its answer can be replaced per test.</summary>
internal sealed class RecordingQueue : IQueue
{
    private int _count;

    public ConcurrentQueue<Envelope> Envelopes { get; } = new();

    public Func<Envelope, Task<IReadOnlyList<QueueResult>>>? Answer { get; set; }

    public async ValueTask<IReadOnlyList<QueueResult>> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        Envelopes.Enqueue(envelope);
        if (Answer is not null)
        {
            return await Answer(envelope);
        }
        return [QueueResult.Accepted(envelope, $"q{Interlocked.Increment(ref _count)}")];
    }
}
