using System.Globalization;
using MimeKit.Cryptography;
using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.MailAuth.Dkim;

/// <summary>
/// The options of <c>dkim_sign</c>: <c>domains</c> (From domain → one key <c>{selector, key}</c> or a
/// list of them, to sign with RSA and Ed25519 side by side as RFC 8463 §4 suggests), <c>default</c>
/// (<c>{domain, selector, key}</c> for any other From domain, optional), <c>headers</c> and
/// <c>canonicalization</c> (<c>header/body</c>, each <c>relaxed</c> or <c>simple</c>).
/// </summary>
internal sealed record DkimSignSettings(
    IReadOnlyDictionary<string, IReadOnlyList<DkimKeySpec>> Domains,
    IReadOnlyList<DkimKeySpec> Default,
    IReadOnlyList<string> Headers,
    DkimCanonicalizationAlgorithm HeaderCanonicalization,
    DkimCanonicalizationAlgorithm BodyCanonicalization)
{
    /// <summary>
    /// The default signed header fields: RFC 6376 §5.4.1's recommended set that messages usually
    /// carry. <c>From</c> must be signed (§5.4) and is always added.
    /// </summary>
    public static IReadOnlyList<string> DefaultHeaders { get; } =
    [
        "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
    ];

    /// <summary>Fields MimeKit's signer refuses to sign (RFC 6376 §5.4.1's "SHOULD NOT" list).</summary>
    private static readonly HashSet<string> Unsignable = new(StringComparer.OrdinalIgnoreCase)
    {
        "Return-Path", "Received", "Comments", "Keywords", "Resent-Bcc",
    };

    public static DkimSignSettings Parse(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", "domains", "default", "headers", "canonicalization");
        var domains = new Dictionary<string, IReadOnlyList<DkimKeySpec>>(StringComparer.OrdinalIgnoreCase);
        var section = options.GetSection("domains");
        if (section is not null)
        {
            foreach (var name in section.Map.Keys)
            {
                var domain = NormalizeDomain(name) ?? throw section.Error(name, $"'{name}' is not a domain name");
                domains[domain] = ReadKeys(section, name, domain);
            }
        }
        IReadOnlyList<DkimKeySpec> fallback = options.Has("default") ? ReadKeys(options, "default", null) : [];
        if (domains.Count == 0 && fallback.Count == 0)
        {
            throw options.Error(null, "give at least one key: 'domains' (From domain → {selector, key}) or 'default' ({domain, selector, key})");
        }
        var headers = options.Has("headers") ? options.GetStringList("headers") : DefaultHeaders;
        foreach (var (header, i) in headers.Select((h, i) => (h, i)))
        {
            if (header.Length == 0 || header.Any(c => c is <= ' ' or >= (char)127 or ':'))
            {
                throw new ConfigException(ConfigNode.Combine(options.PathOf("headers"), i.ToString(CultureInfo.InvariantCulture)),
                    $"'{header}' is not a header field name", options.Map["headers"]?.Location);
            }
            if (header.Equals("DKIM-Signature", StringComparison.OrdinalIgnoreCase))
            {
                throw options.Error("headers", "DKIM-Signature cannot be signed by this signature (RFC 6376 §3.5)");
            }
            if (Unsignable.Contains(header))
            {
                // RFC 6376 §5.4.1 advises against them and MimeKit's signer throws on them at relay
                // time (every message would fail to go out): refuse them here.
                throw options.Error("headers", $"{header} must not be signed: trace and per-hop fields change in transit (RFC 6376 §5.4.1)");
            }
        }
        if (!headers.Contains("From", StringComparer.OrdinalIgnoreCase))
        {
            headers = ["From", .. headers];
        }
        var (headerCanon, bodyCanon) = ParseCanonicalization(options);
        return new DkimSignSettings(domains, fallback, headers.Distinct(StringComparer.OrdinalIgnoreCase).ToList(), headerCanon, bodyCanon);
    }

    private static (DkimCanonicalizationAlgorithm Header, DkimCanonicalizationAlgorithm Body) ParseCanonicalization(ComponentOptions options)
    {
        var text = options.GetString("canonicalization") ?? "relaxed/relaxed";
        var parts = text.Split('/');
        // RFC 6376 §3.5 c=: "header/body"; a single word is the header algorithm with a simple body.
        DkimCanonicalizationAlgorithm? header = Canon(parts[0]);
        DkimCanonicalizationAlgorithm? body = parts.Length > 1 ? Canon(parts[1]) : DkimCanonicalizationAlgorithm.Simple;
        if (parts.Length > 2 || header is null || body is null)
        {
            throw options.Error("canonicalization", $"'{text}' is not header/body with relaxed or simple (e.g. relaxed/relaxed)");
        }
        return (header.Value, body.Value);
    }

    private static DkimCanonicalizationAlgorithm? Canon(string text) => text.Trim().ToLowerInvariant() switch
    {
        "relaxed" => DkimCanonicalizationAlgorithm.Relaxed,
        "simple" => DkimCanonicalizationAlgorithm.Simple,
        _ => null,
    };

    private static List<DkimKeySpec> ReadKeys(ComponentOptions parent, string key, string? domain)
    {
        var node = parent.Map[key];
        var entries = node is ConfigList ? parent.GetSectionList(key) : [parent.GetSection(key) ?? throw parent.Error(key, "expected {selector, key} or a list of them")];
        if (entries.Count == 0)
        {
            throw parent.Error(key, "expected {selector, key} or a list of them");
        }
        var specs = new List<DkimKeySpec>();
        foreach (var entry in entries)
        {
            string d;
            if (domain is null)
            {
                entry.RequireKnownKeys("domain", "selector", "key");
                var text = entry.GetRequiredString("domain");
                d = NormalizeDomain(text) ?? throw entry.Error("domain", $"'{text}' is not a domain name");
            }
            else
            {
                entry.RequireKnownKeys("selector", "key");
                d = domain;
            }
            var selector = entry.GetRequiredString("selector");
            // RFC 6376 §3.1: a selector is one or more dot-separated sub-domain labels.
            if (selector.Split('.').Any(l => l.Length == 0 || l.Length > 63 || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            {
                throw entry.Error("selector", $"'{selector}' is not a selector (DNS labels: letters, digits, '-')");
            }
            specs.Add(new DkimKeySpec(d, selector, entry.GetRequiredString("key"), entry.PathOf("key")));
        }
        return specs;
    }

    /// <summary>Lower-case ASCII (IDNA) form of a domain name, or null when it is not one.</summary>
    public static string? NormalizeDomain(string text)
    {
        var name = text.Trim().TrimEnd('.');
        if (name.Length == 0 || name.Length > 253)
        {
            return null;
        }
        try
        {
            name = new IdnMapping().GetAscii(name).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
        return name.Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) ? name : null;
    }
}
