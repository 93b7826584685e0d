using System.Threading.Channels;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Tests.Queueing;

/// <summary>
/// A relay whose answers the test decides (the engine under test talks to it); every call is
/// recorded with the fake clock's time so a test can assert the retry schedule.
/// </summary>
internal sealed class ScriptedRelay(TimeProvider time, Func<Envelope, int, RelayResult> answer) : IRelay
{
    private readonly Channel<RelayCall> _calls = Channel.CreateUnbounded<RelayCall>();

    public ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        var copy = envelope.CopyWithRecipients(envelope.Recipients);
        copy.Id = envelope.Id;
        _calls.Writer.TryWrite(new RelayCall(time.GetUtcNow(), copy, attempts));
        return ValueTask.FromResult(answer(envelope, attempts));
    }

    public async Task<RelayCall> NextCallAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _calls.Reader.ReadAsync(timeout.Token);
    }

    public bool TryGetCall(out RelayCall? call)
    {
        var ok = _calls.Reader.TryRead(out var c);
        call = c;
        return ok;
    }
}

internal sealed record RelayCall(DateTimeOffset At, Envelope Envelope, int Attempts);
