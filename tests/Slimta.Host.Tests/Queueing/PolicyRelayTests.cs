using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

public sealed class PolicyRelayTests
{
    private static readonly Reply Ok = new(250, "2.0.0", "ok");

    private sealed class Stamp : IRelayPolicy
    {
        public ValueTask ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
        {
            envelope.Message = envelope.Message.AppendHeader("X-Stamp", envelope.Id ?? "?");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class AddRecipient : IRelayPolicy
    {
        public ValueTask ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
        {
            envelope.Recipients.Add("extra@remote.test");
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Attempt_StampingPolicy_RelaySeesHeaderCallerEnvelopeUnchanged()
    {
        var time = new FakeTimeProvider();
        var inner = new ScriptedRelay(time, (env, _) => RelayResult.Delivered(env.Recipients.Count, Ok));
        var relay = new PolicyRelay(inner, [new Stamp()]);
        var envelope = EngineHarness.NewEnvelope("s@client.test", "r@remote.test");
        envelope.Id = "id1";
        var before = envelope.Message.Bytes.ToArray();

        await relay.AttemptAsync(envelope, 0, CancellationToken.None);
        await relay.AttemptAsync(envelope, 1, CancellationToken.None);

        Assert.Equal(before, envelope.Message.Bytes.ToArray());
        var second = (await inner.NextCallAsync(), await inner.NextCallAsync()).Item2;
        Assert.Equal(["id1"], second.Envelope.Message.GetHeaders("X-Stamp"));
        Assert.Equal(1, second.Attempts);
    }

    [Fact]
    public async Task Attempt_PolicyChangesRecipients_ThrowsSoTheAttemptIsTransient()
    {
        var inner = new ScriptedRelay(new FakeTimeProvider(), (env, _) => RelayResult.Delivered(env.Recipients.Count, Ok));
        var relay = new PolicyRelay(inner, [new AddRecipient()]);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await relay.AttemptAsync(EngineHarness.NewEnvelope("s@client.test", "r@remote.test"), 0, CancellationToken.None));
        Assert.False(inner.TryGetCall(out _));
    }
}
