using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Slimta.Smtp.Dns;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>
/// MimeKit's key locator over the shared resolver: the TXT record at
/// <c>selector._domainkey.domain</c> (RFC 6376 §3.6.2.1), its strings joined. A DNS failure is
/// reported as <see cref="DkimKeyException"/> with <c>Temporary</c> set (temperror), a missing or
/// unusable key without it (permerror, §3.6.2.2).
/// </summary>
internal sealed class DnsDkimKeyLocator(IDnsResolver dns) : DkimPublicKeyLocatorBase
{
    public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("verify_auth only verifies asynchronously");

    public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
    {
        if (!methods.Split(':').Any(m => m.Trim().Equals("dns/txt", StringComparison.OrdinalIgnoreCase)))
        {
            throw new DkimKeyException($"no supported query method in q={methods}", temporary: false);
        }
        var name = selector + "._domainkey." + domain;
        var answer = await dns.TextsAsync(name, cancellationToken).ConfigureAwait(false);
        if (answer.Status == DnsStatus.Error)
        {
            throw new DkimKeyException($"DNS error looking up {name}", temporary: true);
        }
        // §3.6.2.2: use the first record that parses as a key record.
        foreach (var text in answer.Records.Where(t => t.Contains("p=", StringComparison.Ordinal)))
        {
            try
            {
                return GetPublicKey(text);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidCastException or NotSupportedException)
            {
                throw new DkimKeyException($"unusable key record at {name}", temporary: false);
            }
        }
        throw new DkimKeyException($"no key for signature at {name}", temporary: false);
    }
}
