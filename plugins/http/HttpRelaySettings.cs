using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Http;

/// <summary>
/// The validated options of an <c>http</c> relay: <c>url</c> (required, http or https),
/// <c>ehlo_as</c> (sent as X-Ehlo; default the process fqdn), <c>timeout</c> (seconds for each
/// request from connect to the response headers, 60), <c>idle_timeout</c> (seconds a kept-alive
/// connection may idle, 10; 0 closes after each request), <c>tls</c> (<c>verify</c>, default
/// true; <c>ca_file</c>, a PEM bundle trusted instead of the system store).
/// </summary>
internal sealed class HttpRelaySettings
{
    public required Uri Url { get; init; }
    public required string? EhloAs { get; init; }
    public required TimeSpan Timeout { get; init; }
    public required TimeSpan IdleTimeout { get; init; }
    public required bool Verify { get; init; }
    public required string? CaFile { get; init; }

    public static HttpRelaySettings Parse(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("url", "ehlo_as", "timeout", "idle_timeout", "tls");
        var text = options.GetRequiredString("url");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw options.Error("url", $"'{text}' is not an http:// or https:// URL");
        }
        var ehloAs = options.GetString("ehlo_as");
        if (ehloAs is not null && (ehloAs.Length == 0 || ehloAs.AsSpan().IndexOfAny(" \t\r\n") >= 0))
        {
            throw options.Error("ehlo_as", "must be a host name without white space");
        }
        var timeout = options.GetSeconds("timeout", TimeSpan.FromSeconds(60));
        if (timeout <= TimeSpan.Zero)
        {
            throw options.Error("timeout", "must be more than 0 seconds");
        }
        bool verify = true;
        string? caFile = null;
        if (options.GetSection("tls") is { } tls)
        {
            tls.RequireKnownKeys("verify", "ca_file");
            verify = tls.GetBoolean("verify", true);
            caFile = tls.GetString("ca_file");
            if (caFile is { Length: 0 })
            {
                throw tls.Error("ca_file", "must not be empty");
            }
        }
        return new HttpRelaySettings
        {
            Url = url,
            EhloAs = ehloAs,
            Timeout = timeout,
            IdleTimeout = options.GetSeconds("idle_timeout", TimeSpan.FromSeconds(10)),
            Verify = verify,
            CaFile = caFile,
        };
    }
}
