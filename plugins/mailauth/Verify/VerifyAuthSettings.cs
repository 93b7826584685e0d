using Slimta.Abstractions.Configuration;
using Slimta.Plugins.MailAuth.Dkim;
using Slimta.Smtp.Dns;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>The options of <c>verify_auth</c>; see docs/configuration.md.</summary>
internal sealed record VerifyAuthSettings(
    string? AuthservId,
    DnsSettings Dns,
    DmarcAction OnReject,
    DmarcAction OnQuarantine,
    string QuarantineHeaderName,
    string QuarantineHeaderValue,
    IReadOnlyList<string> PublicSuffixes,
    int MaxSignatures)
{
    public static VerifyAuthSettings Parse(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", "authserv_id", "dns", "dmarc_reject", "dmarc_quarantine", "quarantine_header", "public_suffixes", "max_signatures");
        var authserv = options.GetString("authserv_id");
        if (authserv is not null && (authserv.Length == 0 || authserv.Any(c => c is <= ' ' or >= (char)127 or ';' or '(' or ')' or '"')))
        {
            throw options.Error("authserv_id", $"'{authserv}' is not an authserv-id (a host name, RFC 8601 §2.5)");
        }
        var onReject = Action(options, "dmarc_reject", DmarcAction.Reject, DmarcAction.Quarantine, DmarcAction.None);
        var onQuarantine = Action(options, "dmarc_quarantine", DmarcAction.Quarantine, DmarcAction.None);
        var header = options.GetString("quarantine_header") ?? "X-Spam-Flag: YES";
        int colon = header.IndexOf(':');
        var name = colon > 0 ? header[..colon].Trim() : string.Empty;
        var value = colon > 0 ? header[(colon + 1)..].Trim() : string.Empty;
        if (name.Length == 0 || name.Any(c => c is <= ' ' or >= (char)127) || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw options.Error("quarantine_header", $"'{header}' is not one header line 'Name: value'");
        }
        var suffixes = new List<string>();
        foreach (var suffix in options.GetStringList("public_suffixes"))
        {
            suffixes.Add(DkimSignSettings.NormalizeDomain(suffix) ?? throw options.Error("public_suffixes", $"'{suffix}' is not a domain name"));
        }
        return new VerifyAuthSettings(authserv, DnsOptions.Parse(options), onReject, onQuarantine, name, value, suffixes,
            options.GetInt32("max_signatures", 5, 1, 50));
    }

    private static DmarcAction Action(ComponentOptions options, string key, params DmarcAction[] allowed)
    {
        var text = options.GetString(key);
        if (text is null)
        {
            return DmarcAction.None;
        }
        foreach (var action in allowed)
        {
            if (text.Equals(action.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return action;
            }
        }
        throw options.Error(key, $"'{text}' is not one of: {string.Join(", ", allowed.Select(a => a.ToString().ToLowerInvariant()))}");
    }
}
