using System.Net;

namespace Slimta.Host.Edge.Proxy;

/// <summary>A PROXY protocol header that was read and understood.</summary>
/// <param name="Source">
/// The original client's address and port; null when the header says the connection is the
/// proxy's own (v1 <c>UNKNOWN</c>, v2 <c>LOCAL</c> or an unspecified/unix family): the socket's peer is used.
/// </param>
/// <param name="Version">1 (text) or 2 (binary).</param>
public sealed record ProxyHeader(IPEndPoint? Source, int Version);
