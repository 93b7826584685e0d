using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;

namespace Slimta.Plugins.MailAuth.Dkim;

/// <summary>A signing key: the <c>d=</c> domain, the <c>s=</c> selector and the private key read from a PEM file.</summary>
/// <param name="Domain">The signing domain (<c>d=</c>), lower case.</param>
/// <param name="Selector">The selector (<c>s=</c>): the public key is at <c>selector._domainkey.domain</c>.</param>
/// <param name="PrivateKey">The private key.</param>
/// <param name="Algorithm">rsa-sha256 for an RSA key, ed25519-sha256 (RFC 8463) for an Ed25519 key.</param>
internal sealed record DkimKey(string Domain, string Selector, AsymmetricKeyParameter PrivateKey, DkimSignatureAlgorithm Algorithm)
{
    /// <summary>RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits (2048 recommended).</summary>
    public const int MinimumRsaBits = 1024;

    /// <summary>
    /// Reads a PEM private key (PKCS#1 <c>RSA PRIVATE KEY</c>, PKCS#8 <c>PRIVATE KEY</c> holding RSA or
    /// Ed25519, as written by <c>openssl genpkey</c>). Throws <see cref="InvalidDataException"/> or an
    /// I/O exception with a readable message.
    /// </summary>
    public static (AsymmetricKeyParameter Key, DkimSignatureAlgorithm Algorithm) ReadPem(string path)
    {
        object? pem;
        using (var reader = new StreamReader(path))
        {
            try
            {
                pem = new PemReader(reader).ReadObject();
            }
            catch (Exception e) when (e is PemException or IOException or ArgumentException or InvalidCastException or InvalidOperationException)
            {
                throw new InvalidDataException("not a readable PEM private key: " + e.Message, e);
            }
        }
        var key = pem switch
        {
            AsymmetricCipherKeyPair pair => pair.Private,
            AsymmetricKeyParameter { IsPrivate: true } k => k,
            null => throw new InvalidDataException("no PEM block found (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"),
            _ => throw new InvalidDataException("the PEM block is not a private key"),
        };
        return key switch
        {
            RsaKeyParameters rsa when rsa.Modulus.BitLength < MinimumRsaBits =>
                throw new InvalidDataException($"the RSA key has {rsa.Modulus.BitLength} bits; DKIM needs at least {MinimumRsaBits} (RFC 8301), 2048 recommended"),
            RsaKeyParameters => (key, DkimSignatureAlgorithm.RsaSha256),
            Ed25519PrivateKeyParameters => (key, DkimSignatureAlgorithm.Ed25519Sha256),
            _ => throw new InvalidDataException($"unsupported key type {key.GetType().Name}; use RSA or Ed25519"),
        };
    }
}
