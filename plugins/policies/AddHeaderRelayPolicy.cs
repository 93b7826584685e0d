using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>add_header</c> (a relay-time policy): appends <c>name: value</c> after the last header of the
/// copy handed to the relay, so the next hop sees it but the stored message never holds it (and a
/// retry does not add it twice). <c>{id}</c> in the value becomes the queue id, <c>{hostname}</c>
/// and <c>{fqdn}</c> this host's names. Every other byte is left alone.
/// </summary>
internal sealed class AddHeaderRelayPolicy(string name, string value) : IRelayPolicy
{
    public ValueTask ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var text = value.Replace("{id}", envelope.Id ?? string.Empty, StringComparison.Ordinal);
        envelope.Message = envelope.Message.AppendHeader(name, text);
        return ValueTask.CompletedTask;
    }
}
