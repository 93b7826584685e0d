using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Slimta.Smtp.Tests.Client;

/// <summary>Certificates made at test time: a CA and a server certificate for 127.0.0.1 and localhost signed by it.</summary>
internal static class TestCertificate
{
    private static readonly Lazy<(X509Certificate2 Ca, X509Certificate2 Server)> Pair = new(Create);

    /// <summary>The test CA (public part only matters to clients).</summary>
    public static X509Certificate2 Ca => Pair.Value.Ca;

    /// <summary>The server certificate with its private key.</summary>
    public static X509Certificate2 Server => Pair.Value.Server;

    /// <summary>Writes the CA as PEM to a new temporary file and returns its path.</summary>
    public static string WriteCaPem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"slimta-test-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, Ca.ExportCertificatePem());
        return path;
    }

    private static (X509Certificate2, X509Certificate2) Create()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Slimta Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var signed = request.Create(ca, now.AddDays(-1), now.AddDays(29), serial);
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        // Re-import so SslStream on every platform gets a usable private key.
        var server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return (ca, server);
    }
}
