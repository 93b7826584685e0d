namespace Slimta.Host.Configuration;

/// <summary><c>process.NAME.metrics</c>: the Prometheus endpoint.</summary>
/// <param name="Interface">The address to bind (an IP literal; <c>0.0.0.0</c> or <c>::</c> for every address).</param>
/// <param name="Port">The TCP port.</param>
/// <param name="Path">The URL path of the scrape endpoint, starting with <c>/</c> (default <c>/metrics</c>).</param>
public sealed record MetricsConfig(string Interface, int Port, string Path)
{
    /// <summary>The default URL path.</summary>
    public const string DefaultPath = "/metrics";
}
