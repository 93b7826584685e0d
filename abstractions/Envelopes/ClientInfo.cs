using System.Net;

namespace Slimta.Abstractions.Envelopes;

/// <summary>What the edge learned about the client that submitted a message.</summary>
/// <param name="Address">The client's IP address (after PROXY protocol, the original client's).</param>
/// <param name="Port">The client's TCP port, 0 when unknown.</param>
/// <param name="ReverseDns">The client's reverse DNS name when it was resolved, else null.</param>
/// <param name="EhloName">The name the client gave in EHLO/HELO/LHLO.</param>
/// <param name="Protocol">The RFC 3848 protocol string: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, HTTP, …</param>
/// <param name="AuthenticatedUser">The AUTH identity when the client authenticated, else null.</param>
public sealed record ClientInfo(
    IPAddress? Address,
    int Port,
    string? ReverseDns,
    string? EhloName,
    string Protocol,
    string? AuthenticatedUser)
{
    /// <summary>Client information for messages that did not come from a network client.</summary>
    public static ClientInfo Local { get; } = new(IPAddress.Loopback, 0, "localhost", null, "LOCAL", null);
}
