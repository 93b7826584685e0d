using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Slimta.Plugins.MailAuth.Dkim;

/// <summary>MimeKit's signer with its <c>t=</c> timestamp taken from the host's clock.</summary>
internal sealed class ClockedDkimSigner(AsymmetricKeyParameter key, string domain, string selector, DkimSignatureAlgorithm algorithm, TimeProvider time)
    : DkimSigner(key, domain, selector, algorithm)
{
    protected override long GetTimestamp() => time.GetUtcNow().ToUnixTimeSeconds();
}
