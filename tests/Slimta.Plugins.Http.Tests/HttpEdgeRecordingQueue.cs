using System.Collections.Concurrent;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Http.Tests;

/// <summary>A queue that records what the http edge hands it; its answer can be replaced per test.</summary>
internal sealed class HttpEdgeRecordingQueue : IQueue
{
    private int _count;

    public ConcurrentQueue<Envelope> Envelopes { get; } = new();

    public Func<Envelope, IReadOnlyList<QueueResult>>? Answer { get; set; }

    public ValueTask<IReadOnlyList<QueueResult>> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        Envelopes.Enqueue(envelope);
        if (Answer is not null)
        {
            return ValueTask.FromResult(Answer(envelope));
        }
        return ValueTask.FromResult<IReadOnlyList<QueueResult>>([QueueResult.Accepted(envelope, $"q{Interlocked.Increment(ref _count)}")]);
    }
}
