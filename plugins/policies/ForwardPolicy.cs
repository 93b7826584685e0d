using System.Text.RegularExpressions;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>forward</c>: rewrites recipients with regular expressions. For each recipient the mappings
/// are tried in the order written; the first whose replacement CHANGES the recipient wins and no
/// later mapping is tried (a mapping that matches but yields the same text does not count). Every
/// match in the recipient is replaced, as Python's <c>re.sub</c> did. Matching has a timeout, so
/// a pathological pattern cannot stall the queue; a timeout refuses the message with a transient
/// error (the <see cref="IQueuePolicy"/> contract).
/// </summary>
internal sealed class ForwardPolicy(IReadOnlyList<(Regex Pattern, string Replacement)> mapping) : IQueuePolicy
{
    public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        for (int i = 0; i < envelope.Recipients.Count; i++)
        {
            var recipient = envelope.Recipients[i];
            foreach (var (pattern, replacement) in mapping)
            {
                var rewritten = pattern.Replace(recipient, replacement);
                if (!string.Equals(rewritten, recipient, StringComparison.Ordinal))
                {
                    envelope.Recipients[i] = rewritten;
                    break;
                }
            }
        }
        return ValueTask.FromResult<IReadOnlyList<Envelope>?>(null);
    }
}
