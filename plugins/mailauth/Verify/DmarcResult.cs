namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>The outcome of the DMARC check of one message.</summary>
/// <param name="Result">pass, fail, none, temperror or permerror (RFC 7489 §11.2).</param>
/// <param name="FromDomain">The RFC5322.From domain, or null when there was none usable.</param>
/// <param name="Policy">The policy that applies (p, or sp for a subdomain's organizational record), null without a record.</param>
/// <param name="Record">The record found, or null.</param>
/// <param name="Disposition">What the record asks for this message after pct sampling (none, quarantine, reject).</param>
/// <param name="Reason">A comment for the header, or null.</param>
internal sealed record DmarcResult(string Result, string? FromDomain, string? Policy, DmarcRecord? Record, string Disposition, string? Reason);
