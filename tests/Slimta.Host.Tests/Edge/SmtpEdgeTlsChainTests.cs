using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Slimta.Testing;

namespace Slimta.Host.Tests.Edge;

/// <summary>A "fullchain" certfile (leaf then intermediates, as Let's Encrypt writes it) sends the intermediates too.</summary>
public sealed class SmtpEdgeTlsChainTests
{
    [Fact]
    public async Task StartTls_FullchainCertfile_ServerSendsTheIntermediate()
    {
        var dir = TestPaths.NewTempDir("slimta-chain");
        using var rootKey = RSA.Create(2048);
        using var root = Ca("CN=Slimta Test Root", rootKey, null, null);
        using var intermediateKey = RSA.Create(2048);
        using var intermediate = Ca("CN=Slimta Test Intermediate", intermediateKey, root, rootKey);
        using var leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=mx.chain.test", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("mx.chain.test");
        leafRequest.CertificateExtensions.Add(san.Build());
        using var leaf = leafRequest.Create(intermediate.SubjectName, X509SignatureGenerator.CreateForRSA(intermediateKey, RSASignaturePadding.Pkcs1),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), [1, 2, 3, 4]);
        var fullchain = Path.Combine(dir, "fullchain.pem");
        var key = Path.Combine(dir, "privkey.pem");
        await File.WriteAllTextAsync(fullchain, leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem() + "\n");
        await File.WriteAllTextAsync(key, leafKey.ExportPkcs8PrivateKeyPem());

        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = new Dictionary<string, object?> { ["certfile"] = fullchain, ["keyfile"] = key } });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync((IPEndPoint)edge.EndPoint);
        var stream = tcp.GetStream();
        var reader = new StreamReader(stream, Encoding.ASCII);
        Assert.StartsWith("220 ", await reader.ReadLineAsync());
        await stream.WriteAsync("EHLO client.test\r\n"u8.ToArray());
        while ((await reader.ReadLineAsync())!.StartsWith("250-", StringComparison.Ordinal))
        {
        }
        await stream.WriteAsync("STARTTLS\r\n"u8.ToArray());
        Assert.StartsWith("220 ", await reader.ReadLineAsync());

        var sent = new List<string>();
        await using var tls = new SslStream(stream, leaveInnerStreamOpen: true, (_, _, chain, _) =>
        {
            // On Linux the certificates the server sent are in the chain's extra store.
            sent.AddRange(chain!.ChainPolicy.ExtraStore.Select(c => c.Subject));
            return true;
        });
        await tls.AuthenticateAsClientAsync("mx.chain.test");
        Assert.Contains("CN=Slimta Test Intermediate", sent);
    }

    private static X509Certificate2 Ca(string subject, RSA key, X509Certificate2? issuer, RSA? issuerKey)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return issuer is null
            ? request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(30))
            : request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForRSA(issuerKey!, RSASignaturePadding.Pkcs1), DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(20), [9, 8, 7, 6]);
    }
}
