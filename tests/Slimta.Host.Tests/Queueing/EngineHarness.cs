using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

/// <summary>A queue engine over the real memory storage, a scripted relay and a fake clock.</summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private readonly Channel<(string Id, DateTimeOffset? Next)> _finished = Channel.CreateUnbounded<(string, DateTimeOffset?)>();

    public EngineHarness(Func<Envelope, int, RelayResult> answer, RetrySchedule? retry, IQueueStorage? storage = null, IReadOnlyList<IQueuePolicy>? policies = null, BounceSettings? bounce = null)
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        Start = Time.GetUtcNow();
        Storage = storage ?? MemoryStorages.Create(Time);
        Relay = new ScriptedRelay(Time, answer);
        Engine = new QueueEngine("test", Storage, Relay, policies ?? [], retry, new BounceBuilder("mta.test.example", "mta", bounce ?? BounceSettings.Default, Time), Time, NullLogger.Instance)
        {
            AttemptFinished = (id, next) => _finished.Writer.TryWrite((id, next)),
        };
    }

    public FakeTimeProvider Time { get; }

    public DateTimeOffset Start { get; }

    public IQueueStorage Storage { get; }

    public ScriptedRelay Relay { get; }

    public QueueEngine Engine { get; }

    public static Envelope NewEnvelope(string sender, params string[] recipients) =>
        new(sender, recipients, RawMessage.FromString("From: <" + sender + ">\r\nSubject: test message\r\n\r\nbody line\r\n"))
        {
            ReceivedAt = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero),
        };

    public async Task<(string Id, DateTimeOffset? Next)> NextFinishedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _finished.Reader.ReadAsync(timeout.Token);
    }

    public async Task<int> CountStoredAsync()
    {
        int n = 0;
        await foreach (var _ in Storage.LoadAllAsync(CancellationToken.None))
        {
            n++;
        }
        return n;
    }

    public async ValueTask DisposeAsync() => await Engine.DisposeAsync();
}
