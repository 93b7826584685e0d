using System.Net;

namespace Slimta.Smtp.Spf;

/// <summary>One directive of an SPF record: a qualifier and a mechanism (RFC 7208 §4.6.1).</summary>
/// <param name="Qualifier">The result when the mechanism matches.</param>
/// <param name="Kind">The mechanism.</param>
/// <param name="DomainSpec">The unexpanded domain-spec, or null for the current domain.</param>
/// <param name="Network">The ip4/ip6 network address.</param>
/// <param name="Cidr4">The IPv4 prefix length (32 when not given).</param>
/// <param name="Cidr6">The IPv6 prefix length (128 when not given).</param>
public sealed record SpfMechanism(SpfResult Qualifier, SpfMechanismKind Kind, string? DomainSpec, IPAddress? Network, int Cidr4, int Cidr6);
