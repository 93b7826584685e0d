using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>Certificate checks against the system's trust store or a configured set of CAs.</summary>
internal static class CertificateTrust
{
    /// <summary>
    /// True when the certificate is valid: no errors at all, or (with <paramref name="cas"/>) only
    /// chain errors and a chain that builds to one of those CAs. A name mismatch is never accepted.
    /// </summary>
    public static bool IsValid(X509Certificate2Collection? cas, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (cas is null || certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
