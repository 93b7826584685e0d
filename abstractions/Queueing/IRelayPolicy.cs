using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Queueing;

/// <summary>
/// A relay-time policy runs before every delivery attempt on a copy of the stored envelope;
/// its changes are not persisted (for example DKIM signing of the bytes that go on the wire).
/// </summary>
public interface IRelayPolicy
{
    /// <summary>Changes <paramref name="envelope"/> in place before it is handed to the relay.</summary>
    ValueTask ApplyAsync(Envelope envelope, CancellationToken cancellationToken);
}
