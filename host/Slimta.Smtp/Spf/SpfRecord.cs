namespace Slimta.Smtp.Spf;

/// <summary>A parsed SPF record (RFC 7208 §4.6).</summary>
/// <param name="Mechanisms">The directives in order.</param>
/// <param name="Redirect">The <c>redirect=</c> domain-spec, or null.</param>
/// <param name="Explanation">The <c>exp=</c> domain-spec, or null (not evaluated here).</param>
public sealed record SpfRecord(IReadOnlyList<SpfMechanism> Mechanisms, string? Redirect, string? Explanation);
