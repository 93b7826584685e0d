using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

public sealed class QueueEngineConcurrencyTests
{
    /// <summary>A relay that holds every attempt until the test lets one through, counting how many run at once.</summary>
    private sealed class GatedRelay : IRelay
    {
        private readonly SemaphoreSlim _gate = new(0);
        private int _running;

        public int MaxRunning { get; private set; }

        public int Running
        {
            get
            {
                lock (this)
                {
                    return _running;
                }
            }
        }

        public int Delivered;

        public void Let(int count) => _gate.Release(count);

        public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
        {
            lock (this)
            {
                MaxRunning = Math.Max(MaxRunning, ++_running);
            }
            await _gate.WaitAsync(cancellationToken);
            lock (this)
            {
                _running--;
            }
            Interlocked.Increment(ref Delivered);
            return RelayResult.Delivered(envelope.Recipients.Count, new Reply(250, "2.0.0", "ok"));
        }
    }

    [Fact]
    public async Task Attempts_MoreDueThanSlots_RunTwoAtATimeUntilAllDelivered()
    {
        var time = new FakeTimeProvider();
        var relay = new GatedRelay();
        var storage = MemoryStorages.Create(time);
        await using var engine = new QueueEngine("test", storage, relay, [], null, new BounceBuilder("mta.test.example", "mta", BounceSettings.Default, time), time, NullLogger.Instance, maxConcurrentAttempts: 2);
        await engine.StartAsync(CancellationToken.None);
        for (int i = 0; i < 6; i++)
        {
            await engine.EnqueueAsync(EngineHarness.NewEnvelope($"s{i}@client.test", "r@remote.test"), CancellationToken.None);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (relay.Running < 2)
        {
            await Task.Delay(10, timeout.Token);
        }
        await Task.Delay(100, timeout.Token);
        Assert.Equal(2, relay.Running);

        // Every attempt that finishes frees a slot, and the scheduler must start the next one.
        relay.Let(6);
        while (Volatile.Read(ref relay.Delivered) < 6 || await CountAsync(storage) > 0)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal(2, relay.MaxRunning);
    }

    private static async Task<int> CountAsync(Slimta.Abstractions.Queueing.IQueueStorage storage)
    {
        int n = 0;
        await foreach (var _ in storage.LoadAllAsync(CancellationToken.None))
        {
            n++;
        }
        return n;
    }
}
