using Slimta.Smtp.Dns;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>
/// DMARC (RFC 7489): policy discovery (§6.6.3: <c>_dmarc.&lt;From domain&gt;</c>, then
/// <c>_dmarc.&lt;organizational domain&gt;</c>), identifier alignment (§3.1: relaxed or strict,
/// for DKIM <c>d=</c> and the SPF-checked domain) and the policy that applies (p, or sp for a
/// subdomain, downgraded by pct sampling as §6.6.4 says).
/// </summary>
internal sealed class DmarcEvaluator(IDnsResolver dns, OrganizationalDomain organizational, Func<int, int> sample)
{
    public async Task<DmarcResult> EvaluateAsync(string? fromDomain, string? fromProblem, IReadOnlyList<string> dkimPassDomains, string? spfPassDomain, CancellationToken cancellationToken)
    {
        if (fromDomain is null)
        {
            // §6.6.1: no single RFC5322.From domain to evaluate.
            return new DmarcResult("permerror", null, null, null, "none", fromProblem ?? "no From domain");
        }
        var org = organizational.Of(fromDomain);
        var (status, record) = await LookupAsync(fromDomain, cancellationToken).ConfigureAwait(false);
        bool atOrganization = false;
        if (status == DnsStatus.NotFound && !string.Equals(org, fromDomain, StringComparison.OrdinalIgnoreCase))
        {
            (status, record) = await LookupAsync(org, cancellationToken).ConfigureAwait(false);
            atOrganization = true;
        }
        if (status == DnsStatus.Error)
        {
            return new DmarcResult("temperror", fromDomain, null, null, "none", "DNS error looking up the DMARC record");
        }
        if (record is null)
        {
            return new DmarcResult("none", fromDomain, null, null, "none", null);
        }
        // §6.6.3 step 6: a record found at the organizational domain applies sp (if given) to subdomains.
        var policy = atOrganization && record.SubdomainPolicy is not null ? record.SubdomainPolicy : record.Policy;
        bool dkimAligned = dkimPassDomains.Any(d => Aligned(d, fromDomain, record.StrictDkim));
        bool spfAligned = spfPassDomain is not null && Aligned(spfPassDomain, fromDomain, record.StrictSpf);
        if (dkimAligned || spfAligned)
        {
            return new DmarcResult("pass", fromDomain, policy, record, "none", null);
        }
        var disposition = policy;
        if (record.Percent < 100 && sample(100) >= record.Percent)
        {
            // §6.6.4: a message outside the sample gets the next less strict policy.
            disposition = policy == "reject" ? "quarantine" : "none";
        }
        return new DmarcResult("fail", fromDomain, policy, record, disposition, null);
    }

    private bool Aligned(string identifier, string fromDomain, bool strict) =>
        strict
            ? string.Equals(identifier.TrimEnd('.'), fromDomain, StringComparison.OrdinalIgnoreCase)
            : string.Equals(organizational.Of(identifier), organizational.Of(fromDomain), StringComparison.OrdinalIgnoreCase);

    private async Task<(DnsStatus Status, DmarcRecord? Record)> LookupAsync(string domain, CancellationToken cancellationToken)
    {
        var answer = await dns.TextsAsync("_dmarc." + domain, cancellationToken).ConfigureAwait(false);
        if (answer.Status != DnsStatus.Found)
        {
            return (answer.Status, null);
        }
        var records = answer.Records.Where(DmarcRecord.IsDmarc).ToList();
        // §6.6.3 step 3: no DMARC record here → ask the organizational domain.
        if (records.Count == 0)
        {
            return (DnsStatus.NotFound, null);
        }
        // §6.6.3 steps 5 and 6: several records, or one without a valid p (and no rua that would
        // make it p=none), end discovery: no DMARC processing, and no fallback to the
        // organizational domain (whose policy the domain owner did not choose for this name).
        var record = records.Count == 1 ? DmarcRecord.Parse(records[0]) : null;
        return (DnsStatus.Found, record);
    }
}
