using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.X509;
using Slimta.Testing;

namespace Slimta.Plugins.MailAuth.Tests;

/// <summary>
/// Keys made with openssl (as an operator would: <c>openssl genpkey</c>) and one dnsmasq that
/// publishes their public keys, SPF and DMARC records for every test of the collection.
/// </summary>
public sealed class MailAuthFixture : IAsyncLifetime
{
    private LocalDnsServer? _dns;

    public string Directory { get; } = TestPaths.NewTempDir("slimta-mailauth");

    public string RsaKey => Path.Combine(Directory, "rsa.pem");

    public string Ed25519Key => Path.Combine(Directory, "ed25519.pem");

    /// <summary>A second RSA key whose public half is published nowhere (a wrong key).</summary>
    public string OtherRsaKey => Path.Combine(Directory, "other.pem");

    public LocalDnsServer Dns => _dns ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        await Openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", RsaKey);
        await Openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", OtherRsaKey);
        await Openssl("genpkey", "-algorithm", "ed25519", "-out", Ed25519Key);
        var rsa = "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(PublicOf(RsaKey)).GetDerEncoded());
        // RFC 8463 §4.2: an Ed25519 p= is the bare 32-byte public key, not a SubjectPublicKeyInfo.
        var ed = "v=DKIM1; k=ed25519; p=" + Convert.ToBase64String(((Ed25519PublicKeyParameters)PublicOf(Ed25519Key)).GetEncoded());
        _dns = await LocalDnsServer.StartAsync(
            Txt("rsa1._domainkey.example.test", rsa),
            Txt("ed1._domainkey.example.test", ed),
            Txt("rsa1._domainkey.strict.test", rsa),
            Txt("rsa1._domainkey.other.test", rsa),
            // Key records a verifier must not use (RFC 6376 §3.6.1): revoked, of another key type,
            // for other hash algorithms, of another version, for another service.
            Txt("revoked._domainkey.example.test", "v=DKIM1; k=rsa; p="),
            Txt("strict._domainkey.example.test", rsa.Replace("k=rsa;", "k=rsa; t=s;", StringComparison.Ordinal)),
            Txt("mismatch._domainkey.example.test", ed),
            Txt("sha1only._domainkey.example.test", rsa.Replace("k=rsa;", "k=rsa; h=sha1;", StringComparison.Ordinal)),
            Txt("badversion._domainkey.example.test", rsa.Replace("v=DKIM1", "v=DKIM2", StringComparison.Ordinal)),
            Txt("otherservice._domainkey.example.test", rsa.Replace("k=rsa;", "k=rsa; s=tlsrpt;", StringComparison.Ordinal)),
            // SPF (RFC 7208): the test client is 127.0.0.1.
            LocalDnsServer.Txt("example.test", "v=spf1 ip4:127.0.0.1 -all"),
            LocalDnsServer.Txt("mail.example.test", "v=spf1 ip4:127.0.0.1 -all"),
            LocalDnsServer.Txt("strict.test", "v=spf1 ip4:127.0.0.1 -all"),
            LocalDnsServer.Txt("other.test", "v=spf1 ip4:127.0.0.1 -all"),
            LocalDnsServer.Txt("fail.test", "v=spf1 ip4:192.0.2.0/24 -all"),
            LocalDnsServer.Txt("softfail.test", "v=spf1 ~all"),
            LocalDnsServer.Txt("client.example.test", "v=spf1 ip4:127.0.0.1 -all"),
            // DMARC (RFC 7489).
            LocalDnsServer.Txt("_dmarc.example.test", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.test"),
            LocalDnsServer.Txt("_dmarc.strict.test", "v=DMARC1; p=reject; adkim=s; aspf=s"),
            LocalDnsServer.Txt("_dmarc.fail.test", "v=DMARC1; p=reject"),
            LocalDnsServer.Txt("_dmarc.softfail.test", "v=DMARC1; p=quarantine"),
            // RFC 7489 §6.6.3: several records, or an invalid one, end discovery (no fallback to example.test).
            LocalDnsServer.Txt("multi.example.test", "v=spf1 ip4:127.0.0.1 -all"),
            LocalDnsServer.Txt("_dmarc.multi.example.test", "v=DMARC1; p=none"),
            LocalDnsServer.Txt("_dmarc.multi.example.test", "v=DMARC1; p=reject"),
            LocalDnsServer.Txt("badp.example.test", "v=spf1 ip4:127.0.0.1 -all"),
            LocalDnsServer.Txt("_dmarc.badp.example.test", "v=DMARC1; p=bogus"));
    }

    public async Task DisposeAsync()
    {
        if (_dns is not null)
        {
            await _dns.DisposeAsync();
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A TXT record split into strings of at most 250 characters (RFC 1035 limits one to 255).</summary>
    private static string Txt(string name, string text) =>
        LocalDnsServer.Txt(name, string.Join(',', text.Chunk(250).Select(c => new string(c))));

    private static AsymmetricKeyParameter PublicOf(string pemFile)
    {
        using var reader = new StreamReader(pemFile);
        var key = new PemReader(reader).ReadObject();
        return key switch
        {
            AsymmetricCipherKeyPair pair => pair.Public,
            RsaPrivateCrtKeyParameters rsa => new RsaKeyParameters(false, rsa.Modulus, rsa.PublicExponent),
            Ed25519PrivateKeyParameters ed => ed.GeneratePublicKey(),
            _ => throw new InvalidOperationException("unexpected key " + key?.GetType()),
        };
    }

    private static async Task Openssl(params string[] args)
    {
        var (code, output) = await MailAuthTestKit.RunAsync("openssl", args);
        Assert.True(code == 0, "openssl " + string.Join(' ', args) + ": " + output);
    }
}

[CollectionDefinition(Name)]
public sealed class MailAuthCollection : ICollectionFixture<MailAuthFixture>
{
    public const string Name = "mail auth DNS";
}
