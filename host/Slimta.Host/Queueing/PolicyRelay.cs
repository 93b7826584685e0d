using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Queueing;

/// <summary>
/// A relay with relay-time policies (<c>relay.NAME.policies</c>): before every attempt the
/// policies run in order on a copy of the envelope, and the copy goes to the inner relay. The
/// caller's envelope — the stored one, for a queue — never sees their changes, so nothing they
/// add is persisted or added twice on a retry. Wrapping the relay (not the engine) gives every
/// queue type the policies, the proxy queue and custom queues included. A policy that throws, or
/// that changes the recipient list (results must match the caller's recipients one for one),
/// fails the attempt like a relay error: transiently.
/// </summary>
public sealed class PolicyRelay : IRelay, IAsyncDisposable
{
    private readonly IRelay _inner;
    private readonly IReadOnlyList<IRelayPolicy> _policies;

    /// <summary>Wraps <paramref name="inner"/> with <paramref name="policies"/>.</summary>
    public PolicyRelay(IRelay inner, IReadOnlyList<IRelayPolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(policies);
        _inner = inner;
        _policies = policies;
    }

    /// <summary>The wrapped relay.</summary>
    public IRelay Inner => _inner;

    /// <inheritdoc />
    public async ValueTask<RelayResult> AttemptAsync(Envelope envelope, int attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var copy = envelope.Copy();
        copy.Id = envelope.Id;
        foreach (var policy in _policies)
        {
            await policy.ApplyAsync(copy, cancellationToken).ConfigureAwait(false);
        }
        if (!copy.Recipients.SequenceEqual(envelope.Recipients, StringComparer.Ordinal))
        {
            throw new InvalidOperationException("a relay-time policy changed the recipients; rewrite recipients with a queue policy (forward) instead");
        }
        return await _inner.AttemptAsync(copy, attempts, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}
