using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Slimta.Testing;

/// <summary>
/// Certificates made at test time: a self-signed server certificate for 127.0.0.1 and localhost,
/// written as PEM files the way an operator would configure them (<c>tls: {certfile, keyfile}</c>).
/// </summary>
public static class TestCertificates
{
    private static readonly Lazy<(string Cert, string Key)> Pem = new(Create);

    /// <summary>The PEM certificate file.</summary>
    public static string CertFile => Pem.Value.Cert;

    /// <summary>The PEM private key file (PKCS#8).</summary>
    public static string KeyFile => Pem.Value.Key;

    /// <summary>A YAML flow mapping for an edge: <c>{certfile: …, keyfile: …}</c>.</summary>
    public static string TlsYaml => $"{{certfile: '{CertFile}', keyfile: '{KeyFile}'}}";

    private static (string, string) Create()
    {
        var dir = TestPaths.NewTempDir("slimta-certs");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        var cert = Path.Combine(dir, "cert.pem");
        var keyFile = Path.Combine(dir, "key.pem");
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (cert, keyFile);
    }
}
