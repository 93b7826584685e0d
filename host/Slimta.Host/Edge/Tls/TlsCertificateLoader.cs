using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Edge.Tls;

/// <summary>Loads the edge certificate from PEM files into a context SslStream reuses for every handshake.</summary>
internal static class TlsCertificateLoader
{
    public static SslStreamCertificateContext Load(TlsFileOptions files, ComponentContext context, string configPath)
    {
        var certFile = context.ResolvePath(files.CertFile);
        var keyFile = files.KeyFile is null ? null : context.ResolvePath(files.KeyFile);
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ConfigException(configPath + ".certfile", $"cannot load the certificate and key from '{certFile}'{(keyFile is null ? "" : $" and '{keyFile}'")}: {ex.Message}", null, ex);
        }
        if (!certificate.HasPrivateKey)
        {
            throw new ConfigException(configPath + ".keyfile", "the certificate has no private key; give 'keyfile'", null);
        }
        var chain = new X509Certificate2Collection();
        // A "fullchain" file (Let's Encrypt, nginx, Postfix) holds the leaf and then the
        // intermediates: send those intermediates too, or clients that lack them cannot verify.
        try
        {
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(certFile);
            foreach (var extra in all)
            {
                if (extra.Thumbprint != certificate.Thumbprint)
                {
                    chain.Add(extra);
                }
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(configPath + ".certfile", $"cannot read the certificates in '{certFile}': {ex.Message}", null, ex);
        }
        if (files.CaCerts is not null)
        {
            var caFile = context.ResolvePath(files.CaCerts);
            try
            {
                chain.ImportFromPemFile(caFile);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ConfigException(configPath + ".ca_certs", $"cannot load certificates from '{caFile}': {ex.Message}", null, ex);
            }
        }
        // offline: no network fetches of intermediates at startup.
        return SslStreamCertificateContext.Create(certificate, chain, offline: true);
    }
}
