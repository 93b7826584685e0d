using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Http;

/// <summary>Builds <see cref="HttpRelay"/>; keys in <see cref="HttpRelaySettings"/>.</summary>
internal sealed class HttpRelayFactory : IComponentFactory<IRelay>
{
    public void Validate(ComponentOptions options) => HttpRelaySettings.Parse(options);

    public IRelay Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = HttpRelaySettings.Parse(options);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = settings.Timeout,
            PooledConnectionIdleTimeout = settings.IdleTimeout,
            // Redirects would re-POST the message somewhere the configuration does not name.
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
        };
        if (!settings.Verify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (settings.CaFile is { } caFile)
        {
            var path = context.ResolvePath(caFile);
            var cas = new X509Certificate2Collection();
            try
            {
                cas.ImportFromPemFile(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ConfigException(ConfigNode.Combine(options.PathOf("tls"), "ca_file"), $"cannot read CA certificates from '{path}': {e.Message}", options.Map.Location, e);
            }
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(cas);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var leaf = new X509Certificate2(certificate);
                return chain.Build(leaf);
            };
        }
        var client = new HttpClient(handler, disposeHandler: true)
        {
            // Every request gets its own timeout on the relay's TimeProvider instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var logger = context.Loggers.CreateLogger(typeof(HttpRelay).FullName!);
        return new HttpRelay(client, settings.Url, context.Expand(settings.EhloAs ?? context.Fqdn), settings.Timeout, context.Time, logger);
    }
}
