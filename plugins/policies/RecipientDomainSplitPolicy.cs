using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// <c>recipient_domain_split</c>: one envelope per distinct recipient domain. Domains compare
/// case-insensitively (RFC 5321 §2.4); envelopes come in the order each domain first appears and
/// keep their recipients in the original order and spelling. A recipient without <c>@</c> counts
/// as the empty domain. An envelope whose recipients share one domain is left as it is.
/// </summary>
internal sealed class RecipientDomainSplitPolicy : IQueuePolicy
{
    public ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var groups = new List<List<string>>();
        var byDomain = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var recipient in envelope.Recipients)
        {
            var domain = Envelope.DomainOf(recipient);
            if (!byDomain.TryGetValue(domain, out var group))
            {
                group = [];
                byDomain.Add(domain, group);
                groups.Add(group);
            }
            group.Add(recipient);
        }
        if (groups.Count <= 1)
        {
            return ValueTask.FromResult<IReadOnlyList<Envelope>?>(null);
        }
        var split = groups.Select(g => envelope.CopyWithRecipients(g)).ToList();
        return ValueTask.FromResult<IReadOnlyList<Envelope>?>(split);
    }
}
