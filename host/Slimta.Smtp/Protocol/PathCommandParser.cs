using System.Text;
using System.Text.Unicode;

namespace Slimta.Smtp.Protocol;

/// <summary>
/// Parses the argument of MAIL (<c>FROM:&lt;path&gt; params</c>) and RCPT (<c>TO:&lt;path&gt; params</c>)
/// on bytes, following RFC 5321 §4.1.2 with the usual leniencies: the prefix is case-insensitive
/// and spaces after the colon are tolerated. Quoted local parts may contain <c>&gt;</c>, spaces and
/// quoted pairs; a source route (<c>&lt;@a,@b:user@c&gt;</c>) is accepted and dropped (§4.1.1.3,
/// Appendix C). Bytes above 127 are allowed in the local part and domain and flag the address as
/// needing SMTPUTF8 (RFC 6531 §3.3); they must be valid UTF-8.
/// </summary>
internal static class PathCommandParser
{
    /// <summary>Parses <c>FROM:&lt;path&gt; [params]</c>; <c>&lt;&gt;</c> is allowed.</summary>
    public static PathCommandError ParseMail(ReadOnlySpan<byte> argument, out SmtpPath path, List<EsmtpParameter> parameters) =>
        Parse(argument, "FROM:"u8, isMail: true, out path, parameters);

    /// <summary>Parses <c>TO:&lt;path&gt; [params]</c>; <c>&lt;postmaster&gt;</c> without a domain is allowed (§4.1.1.3).</summary>
    public static PathCommandError ParseRcpt(ReadOnlySpan<byte> argument, out SmtpPath path, List<EsmtpParameter> parameters) =>
        Parse(argument, "TO:"u8, isMail: false, out path, parameters);

    private static PathCommandError Parse(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> prefix, bool isMail, out SmtpPath path, List<EsmtpParameter> parameters)
    {
        path = default;
        parameters.Clear();
        if (argument.Length < prefix.Length || !Ascii.EqualsIgnoreCase(argument[..prefix.Length], prefix))
        {
            return PathCommandError.PathSyntax;
        }
        var rest = argument[prefix.Length..].TrimStart((byte)' ');
        int used = TryParsePath(rest, isMail, out path);
        if (used < 0)
        {
            return PathCommandError.PathSyntax;
        }
        return ParseParameters(rest[used..], parameters) ? PathCommandError.None : PathCommandError.ParameterSyntax;
    }

    /// <summary>Parses a path at the start of <paramref name="s"/>; returns the bytes used or -1.</summary>
    internal static int TryParsePath(ReadOnlySpan<byte> s, bool allowNull, out SmtpPath path)
    {
        path = default;
        if (s.Length < 2 || s[0] != (byte)'<')
        {
            return -1;
        }
        int i = 1;
        if (s[1] == (byte)'>')
        {
            if (!allowNull)
            {
                return -1;
            }
            path = new SmtpPath(string.Empty, false);
            return 2;
        }
        if (s[i] == (byte)'@')
        {
            // A-d-l ":" — an obsolete source route; RFC 5321 §3.6.1 says to ignore it.
            int colon = s.IndexOf((byte)':');
            if (colon < 0 || s[i..colon].IndexOfAny((byte)'>', (byte)'"') >= 0)
            {
                return -1;
            }
            i = colon + 1;
        }
        int start = i;
        bool nonAscii = false;
        if (!SkipLocalPart(s, ref i, ref nonAscii))
        {
            return -1;
        }
        if (i < s.Length && s[i] == (byte)'>' && !allowNull && Ascii.EqualsIgnoreCase(s[start..i], "postmaster"u8))
        {
            path = new SmtpPath(Encoding.ASCII.GetString(s[start..i]), false);
            return i + 1;
        }
        if (i >= s.Length || s[i] != (byte)'@')
        {
            return -1;
        }
        i++;
        if (!SkipDomain(s, ref i, ref nonAscii) || i >= s.Length || s[i] != (byte)'>')
        {
            return -1;
        }
        var mailbox = s[start..i];
        if (nonAscii && !Utf8.IsValid(mailbox))
        {
            return -1;
        }
        path = new SmtpPath(Encoding.UTF8.GetString(mailbox), nonAscii);
        return i + 1;
    }

    private static bool SkipLocalPart(ReadOnlySpan<byte> s, ref int i, ref bool nonAscii)
    {
        int start = i;
        if (i < s.Length && s[i] == (byte)'"')
        {
            // Quoted-string (§4.1.2): qtextSMTP / quoted-pairSMTP; '>' and '@' are plain text here.
            i++;
            while (i < s.Length)
            {
                byte c = s[i];
                if (c == (byte)'"')
                {
                    i++;
                    return true;
                }
                if (c == (byte)'\\')
                {
                    if (i + 1 >= s.Length || s[i + 1] < 32 || s[i + 1] == 127)
                    {
                        return false;
                    }
                    nonAscii |= s[i + 1] > 127;
                    i += 2;
                    continue;
                }
                if (c < 32 || c == 127)
                {
                    return false;
                }
                nonAscii |= c > 127;
                i++;
            }
            return false;
        }
        // Dot-string. Consecutive or trailing dots are tolerated: real senders use them and
        // refusing them buys nothing.
        while (i < s.Length && (IsAtext(s[i]) || s[i] == (byte)'.'))
        {
            nonAscii |= s[i] > 127;
            i++;
        }
        return i > start;
    }

    private static bool SkipDomain(ReadOnlySpan<byte> s, ref int i, ref bool nonAscii)
    {
        if (i < s.Length && s[i] == (byte)'[')
        {
            // address-literal: printable US-ASCII without '[', ']' and '\' (dcontent, §4.1.3).
            int start = ++i;
            while (i < s.Length && s[i] is >= 33 and <= 126 and not (byte)'[' and not (byte)']' and not (byte)'\\')
            {
                i++;
            }
            if (i == start || i >= s.Length || s[i] != (byte)']')
            {
                return false;
            }
            i++;
            return true;
        }
        int labelLength = 0;
        int labels = 0;
        while (i < s.Length)
        {
            byte c = s[i];
            if (c == (byte)'.')
            {
                if (labelLength == 0)
                {
                    return false;
                }
                labelLength = 0;
                i++;
                continue;
            }
            if (!(char.IsAsciiLetterOrDigit((char)c) || c == (byte)'-' || c == (byte)'_' || c > 127))
            {
                break;
            }
            nonAscii |= c > 127;
            if (labelLength++ == 0)
            {
                labels++;
            }
            i++;
        }
        return labels > 0 && labelLength > 0;
    }

    private static bool IsAtext(byte c) =>
        char.IsAsciiLetterOrDigit((char)c) || c > 127 || c switch
        {
            (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+'
                or (byte)'-' or (byte)'/' or (byte)'=' or (byte)'?' or (byte)'^' or (byte)'_' or (byte)'`'
                or (byte)'{' or (byte)'|' or (byte)'}' or (byte)'~' => true,
            _ => false,
        };

    /// <summary>Parses <c>*(SP esmtp-param)</c> (RFC 5321 §4.1.2); trailing spaces are tolerated.</summary>
    internal static bool ParseParameters(ReadOnlySpan<byte> s, List<EsmtpParameter> parameters)
    {
        if (s.Length > 0 && s[0] != (byte)' ')
        {
            return false;
        }
        while (true)
        {
            s = s.TrimStart((byte)' ');
            if (s.Length == 0)
            {
                return true;
            }
            int end = s.IndexOf((byte)' ');
            var token = end < 0 ? s : s[..end];
            s = end < 0 ? default : s[end..];
            int eq = token.IndexOf((byte)'=');
            var keyword = eq < 0 ? token : token[..eq];
            if (keyword.Length == 0 || !char.IsAsciiLetterOrDigit((char)keyword[0]))
            {
                return false;
            }
            foreach (byte c in keyword)
            {
                if (!char.IsAsciiLetterOrDigit((char)c) && c != (byte)'-')
                {
                    return false;
                }
            }
            string? value = null;
            if (eq >= 0)
            {
                // esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 under RFC 6531.
                var v = token[(eq + 1)..];
                if (v.Length == 0 || v.IndexOf((byte)'=') >= 0 || v.IndexOfAnyInRange((byte)0, (byte)32) >= 0 || v.IndexOf((byte)127) >= 0 || !Utf8.IsValid(v))
                {
                    return false;
                }
                value = Encoding.UTF8.GetString(v);
            }
            parameters.Add(new EsmtpParameter(Encoding.ASCII.GetString(keyword).ToUpperInvariant(), value));
        }
    }
}
