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
    // Key names whose record has t=s (§3.6.1), as last looked up: MimeKit does not read t=.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _strict = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// True when the key at <c>selector._domainkey.domain</c> was last seen with the flag
    /// <c>t=s</c>: an <c>i=</c> domain must then equal <c>d=</c>, not be a subdomain of it.
    /// </summary>
    public bool IsStrict(string domain, string selector) => _strict.TryGetValue(selector + "._domainkey." + domain, out var strict) && strict;

    public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("verify_auth only verifies asynchronously");

    public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
    {
        if (!methods.Split(':').Any(m => m.Trim().Equals("dns/txt", StringComparison.OrdinalIgnoreCase)))
        {
            throw new DkimKeyException($"no supported query method in q={methods}", temporary: false);
        }
        var name = selector + "._domainkey." + domain;
        // §3.5 (s=, d=): DNS labels. A name that cannot even be asked is the signature's own
        // error (permerror), not a DNS outage (which the resolver reports as an error too).
        if (!IsQueryable(name))
        {
            throw new DkimKeyException($"s={selector} d={domain} is not a DNS name", temporary: false);
        }
        var answer = await dns.TextsAsync(name, cancellationToken).ConfigureAwait(false);
        if (answer.Status == DnsStatus.Error)
        {
            throw new DkimKeyException($"DNS error looking up {name}", temporary: true);
        }
        // §3.6.2.2: use the first record that parses as a key record.
        foreach (var text in answer.Records.Where(t => t.Contains("p=", StringComparison.Ordinal)))
        {
            if (Unusable(text) is { } why)
            {
                throw new DkimKeyException($"key record at {name}: {why}", temporary: false);
            }
            _strict[name] = Tags(text).FirstOrDefault(t => t.Name == "t").Value is { } flags && flags.Split(':').Contains("s", StringComparer.Ordinal);
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

    private static bool IsQueryable(string name) =>
        name.Length <= 253 && name.TrimEnd('.').Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => c > ' ' && c < 127));

    /// <summary>
    /// Why a key record must not verify an email signature (RFC 6376 §3.6.1), or null: a <c>v=</c>
    /// other than DKIM1 (or not first), an <c>h=</c> without sha256 (every algorithm verify_auth
    /// accepts hashes with SHA-256), an <c>s=</c> without <c>email</c> or <c>*</c>, or an empty
    /// <c>p=</c> (a revoked key). MimeKit's key parser reads only <c>k=</c> and <c>p=</c>.
    /// </summary>
    internal static string? Unusable(string record)
    {
        var tags = Tags(record);
        string? Value(string tag) => tags.FirstOrDefault(t => t.Name == tag).Value;
        int version = tags.FindIndex(t => t.Name == "v");
        if (version > 0 || (version == 0 && tags[0].Value != "DKIM1"))
        {
            return "not a DKIM1 key record";
        }
        if (Value("p") is { Length: 0 })
        {
            return "key revoked (empty p=)";
        }
        if (Value("h") is { } hashes && !hashes.Split(':').Contains("sha256", StringComparer.OrdinalIgnoreCase))
        {
            return $"h={hashes} does not allow sha256";
        }
        if (Value("s") is { } services && !services.Split(':').Any(v => v is "*" || v.Equals("email", StringComparison.OrdinalIgnoreCase)))
        {
            return $"s={services} is not for email";
        }
        return null;
    }

    private static List<(string Name, string Value)> Tags(string record)
    {
        var tags = new List<(string Name, string Value)>();
        foreach (var part in record.Split(';'))
        {
            int eq = part.IndexOf('=');
            if (eq > 0)
            {
                tags.Add((part[..eq].Trim(), string.Concat(part[(eq + 1)..].Where(c => !char.IsWhiteSpace(c)))));
            }
        }
        return tags;
    }
}
