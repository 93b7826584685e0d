using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>recipient_split</c>: one envelope per recipient, in recipient order, each sharing the
/// (immutable) message bytes. An envelope with one recipient or none is left as it is.
/// </summary>
internal sealed class RecipientSplitPolicy : IQueuePolicy
{
    public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.Recipients.Count <= 1)
        {
            return ValueTask.FromResult<IReadOnlyList<Envelope>?>(null);
        }
        var split = envelope.Recipients.Select(r => envelope.CopyWithRecipients([r])).ToList();
        return ValueTask.FromResult<IReadOnlyList<Envelope>?>(split);
    }
}
