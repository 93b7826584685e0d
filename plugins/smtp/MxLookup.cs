using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The mail exchangers of a domain in the order to try them, or the reply that ends the attempt
/// (null MX, no such domain, DNS failure). <see cref="Implicit"/> is true when the domain has no
/// MX records and its own name is the only exchanger (RFC 5321 §5.1).
/// </summary>
internal sealed record MxLookup(IReadOnlyList<string> Hosts, bool Implicit, Reply? Failure)
{
    public static MxLookup Fail(Reply reply) => new([], false, reply);
}
