namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>The result of one DKIM-Signature (RFC 8601 §2.7.1 result names).</summary>
/// <param name="Result">pass, fail, neutral, temperror or permerror.</param>
/// <param name="Domain">d=, when present.</param>
/// <param name="Selector">s=, when present.</param>
/// <param name="Signature">The first 8 characters of b= (RFC 6008), to tell signatures apart.</param>
/// <param name="Reason">A comment, or null.</param>
internal sealed record DkimCheck(string Result, string? Domain, string? Selector, string? Signature, string? Reason);
