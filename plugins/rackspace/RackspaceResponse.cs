using System.Net;

namespace Slimta.Plugins.Rackspace;

/// <summary>A response read to the end (status, headers of response and content, body), so no connection stays borrowed.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Headers">Response and content headers, names case-insensitive, values joined with ", ".</param>
/// <param name="Body">The body bytes (empty for HEAD and 204).</param>
internal sealed record RackspaceResponse(HttpStatusCode Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>The header's value, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    /// <summary>True for 5xx: the service failed, the call may succeed if repeated.</summary>
    public bool IsServerError => (int)Status >= 500;
}
