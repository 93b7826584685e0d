using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Slimta.Smtp.Spf;

/// <summary>Macro strings (RFC 7208 §7): <c>%{s}</c>, <c>%{l}</c>, <c>%{o}</c>, <c>%{d}</c>, <c>%{i}</c>, <c>%{p}</c>, <c>%{v}</c>, <c>%{h}</c> (and <c>c</c>, <c>r</c>, <c>t</c> in exp), with digits, <c>r</c> and delimiters.</summary>
public static class SpfMacro
{
    private const string Delimiters = ".-+,/_=";

    /// <summary>True when <paramref name="text"/> is a well-formed macro-string (§7.1).</summary>
    public static bool IsValid(string text) => Expand(text, null, false) is not null;

    /// <summary>Expands <paramref name="text"/>; null when it is malformed (a permerror).</summary>
    /// <param name="text">The macro-string.</param>
    /// <param name="values">The values; null only checks the syntax.</param>
    /// <param name="explanation">True for <c>exp</c> text, where <c>c</c>, <c>r</c> and <c>t</c> are allowed (§7.2).</param>
    public static string? Expand(string text, SpfMacroValues? values, bool explanation)
    {
        var result = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is < '!' or > '~')
            {
                return null;
            }
            if (c != '%')
            {
                result.Append(c);
                continue;
            }
            if (++i >= text.Length)
            {
                return null;
            }
            switch (text[i])
            {
                case '%': result.Append('%'); continue;
                case '_': result.Append(' '); continue;
                case '-': result.Append("%20"); continue;
                case '{': break;
                default: return null;
            }
            int close = text.IndexOf('}', i);
            if (close < 0 || close == i + 1)
            {
                return null;
            }
            var expansion = ExpandOne(text[(i + 1)..close], values, explanation);
            if (expansion is null)
            {
                return null;
            }
            result.Append(expansion);
            i = close;
        }
        return result.ToString();
    }

    private static string? ExpandOne(string macro, SpfMacroValues? values, bool explanation)
    {
        char letter = macro[0];
        bool escape = char.IsAsciiLetterUpper(letter);
        char lower = char.ToLowerInvariant(letter);
        if ("sloidpvh".IndexOf(lower) < 0 && !(explanation && "crt".IndexOf(lower) >= 0))
        {
            return null;
        }
        int pos = 1;
        int digitsStart = pos;
        while (pos < macro.Length && char.IsAsciiDigit(macro[pos]))
        {
            pos++;
        }
        int keep = 0;
        if (pos > digitsStart && (!int.TryParse(macro.AsSpan(digitsStart, pos - digitsStart), NumberStyles.None, CultureInfo.InvariantCulture, out keep) || keep == 0 || keep > 128))
        {
            // §7.1: a transformer of 0 is not allowed; 128 is more labels than any name has.
            return null;
        }
        bool reverse = false;
        if (pos < macro.Length && (macro[pos] == 'r' || macro[pos] == 'R'))
        {
            reverse = true;
            pos++;
        }
        var delimiters = macro[pos..];
        if (delimiters.Any(d => Delimiters.IndexOf(d) < 0))
        {
            return null;
        }
        if (values is null)
        {
            return string.Empty;
        }
        string value = lower switch
        {
            's' => values.Sender,
            'l' => values.LocalPart,
            'o' => values.SenderDomain,
            'd' => values.Domain,
            'i' => DottedAddress(values),
            'c' => values.Address.ToString(),
            // §7.3: "p" needs a validated reverse name; this implementation does not look it
            // up (the RFC discourages the macro) and uses the value the RFC gives when no
            // validated name exists.
            'p' => "unknown",
            'v' => values.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "in-addr",
            'h' => values.Helo,
            'r' => values.ReceivingHost,
            't' => "0",
            _ => string.Empty,
        };
        var parts = value.Split(delimiters.Length == 0 ? ['.'] : delimiters.ToCharArray()).ToList();
        if (reverse)
        {
            parts.Reverse();
        }
        if (keep > 0 && keep < parts.Count)
        {
            parts = parts.GetRange(parts.Count - keep, keep);
        }
        var joined = string.Join('.', parts);
        return escape ? Uri.EscapeDataString(joined) : joined;
    }

    private static string DottedAddress(SpfMacroValues values)
    {
        if (values.Address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return values.Address.ToString();
        }
        // §7.3: an IPv6 <ip> is written as dot-separated nibbles.
        var bytes = values.Address.GetAddressBytes();
        var sb = new StringBuilder(63);
        foreach (var b in bytes)
        {
            sb.Append("0123456789abcdef"[b >> 4]).Append('.').Append("0123456789abcdef"[b & 0xF]).Append('.');
        }
        return sb.ToString(0, sb.Length - 1);
    }
}
