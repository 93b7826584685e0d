using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Slimta.Smtp.Spf;

/// <summary>
/// Parses SPF records (RFC 7208 §4.5, §4.6). The whole record is parsed before anything is
/// evaluated: a syntax error anywhere is a permerror even when an earlier mechanism would match
/// (§4.6).
/// </summary>
public static class SpfRecordParser
{
    /// <summary>True when a TXT record is an SPF version 1 record: <c>v=spf1</c> then a space or the end (§4.5).</summary>
    public static bool IsSpfRecord(string text) =>
        text.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase) && (text.Length == 6 || text[6] == ' ');

    /// <summary>Parses a record that <see cref="IsSpfRecord"/> accepted; null on a syntax error.</summary>
    public static SpfRecord? Parse(string text)
    {
        var mechanisms = new List<SpfMechanism>();
        string? redirect = null, explanation = null;
        foreach (var term in text[6..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = term.IndexOf('=');
            int colon = term.IndexOf(':');
            int slash = term.IndexOf('/');
            bool isModifier = eq > 0 && (colon < 0 || eq < colon) && (slash < 0 || eq < slash);
            if (isModifier)
            {
                var name = term[..eq];
                var value = term[(eq + 1)..];
                if (!IsName(name) || !SpfMacro.IsValid(value))
                {
                    return null;
                }
                // §6: redirect and exp may each appear once; other modifiers are ignored (§6, §4.6.1).
                if (name.Equals("redirect", StringComparison.OrdinalIgnoreCase))
                {
                    if (redirect is not null || value.Length == 0)
                    {
                        return null;
                    }
                    redirect = value;
                }
                else if (name.Equals("exp", StringComparison.OrdinalIgnoreCase))
                {
                    if (explanation is not null || value.Length == 0)
                    {
                        return null;
                    }
                    explanation = value;
                }
                continue;
            }
            var mechanism = ParseMechanism(term);
            if (mechanism is null)
            {
                return null;
            }
            mechanisms.Add(mechanism);
        }
        return new SpfRecord(mechanisms, redirect, explanation);
    }

    private static SpfMechanism? ParseMechanism(string term)
    {
        var qualifier = SpfResult.Pass;
        switch (term[0])
        {
            case '+': qualifier = SpfResult.Pass; term = term[1..]; break;
            case '-': qualifier = SpfResult.Fail; term = term[1..]; break;
            case '~': qualifier = SpfResult.SoftFail; term = term[1..]; break;
            case '?': qualifier = SpfResult.Neutral; term = term[1..]; break;
        }
        int end = term.AsSpan().IndexOfAny(':', '/');
        var name = (end < 0 ? term : term[..end]).ToLowerInvariant();
        var rest = end < 0 ? string.Empty : term[end..];
        switch (name)
        {
            case "all":
                return rest.Length == 0 ? new SpfMechanism(qualifier, SpfMechanismKind.All, null, null, 32, 128) : null;
            case "include":
            case "exists":
            {
                var spec = RequiredDomainSpec(rest);
                return spec is null ? null : new SpfMechanism(qualifier, name == "include" ? SpfMechanismKind.Include : SpfMechanismKind.Exists, spec, null, 32, 128);
            }
            case "ptr":
            {
                string? spec = null;
                if (rest.Length > 0)
                {
                    spec = RequiredDomainSpec(rest);
                    if (spec is null)
                    {
                        return null;
                    }
                }
                return new SpfMechanism(qualifier, SpfMechanismKind.Ptr, spec, null, 32, 128);
            }
            case "a":
            case "mx":
            {
                string? spec = null;
                int cidrStart = rest.IndexOf('/');
                var specPart = cidrStart < 0 ? rest : rest[..cidrStart];
                if (specPart.Length > 0)
                {
                    spec = RequiredDomainSpec(specPart);
                    if (spec is null)
                    {
                        return null;
                    }
                }
                if (!ParseDualCidr(cidrStart < 0 ? string.Empty : rest[cidrStart..], out int cidr4, out int cidr6))
                {
                    return null;
                }
                return new SpfMechanism(qualifier, name == "a" ? SpfMechanismKind.A : SpfMechanismKind.Mx, spec, null, cidr4, cidr6);
            }
            case "ip4":
            case "ip6":
            {
                if (!rest.StartsWith(':'))
                {
                    return null;
                }
                var value = rest[1..];
                int slash = value.IndexOf('/');
                var addressText = slash < 0 ? value : value[..slash];
                bool v6 = name == "ip6";
                int max = v6 ? 128 : 32;
                int cidr = max;
                if (slash >= 0 && !ParseLength(value[(slash + 1)..], max, out cidr))
                {
                    return null;
                }
                if (!IPAddress.TryParse(addressText, out var address)
                    || address.AddressFamily != (v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork)
                    || (!v6 && addressText.Count(c => c == '.') != 3))
                {
                    return null;
                }
                return new SpfMechanism(qualifier, v6 ? SpfMechanismKind.Ip6 : SpfMechanismKind.Ip4, null, address, v6 ? 32 : cidr, v6 ? cidr : 128);
            }
            default:
                // §4.6.1: an unknown mechanism is a permerror (unlike unknown modifiers).
                return null;
        }
    }

    private static string? RequiredDomainSpec(string rest)
    {
        if (!rest.StartsWith(':') || rest.Length == 1)
        {
            return null;
        }
        var spec = rest[1..];
        return SpfMacro.IsValid(spec) ? spec : null;
    }

    private static bool ParseDualCidr(string text, out int cidr4, out int cidr6)
    {
        cidr4 = 32;
        cidr6 = 128;
        if (text.Length == 0)
        {
            return true;
        }
        int dbl = text.IndexOf("//", StringComparison.Ordinal);
        var four = dbl < 0 ? text : text[..dbl];
        var six = dbl < 0 ? string.Empty : text[(dbl + 2)..];
        if (four.Length > 0 && (!four.StartsWith('/') || !ParseLength(four[1..], 32, out cidr4)))
        {
            return false;
        }
        return dbl < 0 || ParseLength(six, 128, out cidr6);
    }

    private static bool ParseLength(string text, int max, out int length)
    {
        // §5.6: a prefix length has no leading zeros.
        length = 0;
        return text.Length > 0 && text.Length <= 3 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0')
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out length) && length <= max;
    }

    private static bool IsName(string name) =>
        name.Length > 0 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
