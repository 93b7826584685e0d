using System.Text;

namespace Slimta.Plugins.Local;

/// <summary>
/// The <c>mailbox</c> template of the maildir relay: a relative directory under the relay's
/// <c>path</c> with the placeholders <c>{localpart}</c>, <c>{domain}</c> and <c>{recipient}</c>.
/// </summary>
/// <remarks>
/// Recipients come from the network, so what they contribute is never trusted to name a path:
/// a substituted value must not contain a directory separator, NUL or a control character and
/// must not be <c>.</c> or <c>..</c>, every resulting path segment must be a plain name, and the
/// final directory is checked to lie inside the root. A recipient that fails any of this gets
/// "invalid mailbox" rather than a cleaned-up name, so two different addresses can never be
/// folded into one mailbox. The domain is lower-cased (domains are case-insensitive, RFC 5321
/// §2.4); the local part keeps its case because only the receiving host may interpret it (RFC 5321 §2.4).
/// </remarks>
internal sealed class MailboxTemplate
{
    internal const string Default = "{localpart}";

    private const int MaxSegmentBytes = 255;

    private static readonly string[] Placeholders = ["localpart", "domain", "recipient"];

    private readonly List<(string Text, bool IsPlaceholder)> _parts;

    private MailboxTemplate(List<(string Text, bool IsPlaceholder)> parts) => _parts = parts;

    /// <summary>Parses a template; returns null and a reason when it is not valid.</summary>
    public static MailboxTemplate? TryParse(string template, out string? problem)
    {
        var parts = new List<(string, bool)>();
        var literal = new StringBuilder();
        int i = 0;
        while (i < template.Length)
        {
            char c = template[i];
            if (c == '{')
            {
                int close = template.IndexOf('}', i + 1);
                if (close < 0)
                {
                    problem = $"'{{' at position {i} is not closed";
                    return null;
                }
                var name = template[(i + 1)..close];
                if (Array.IndexOf(Placeholders, name) < 0)
                {
                    problem = $"unknown placeholder '{{{name}}}'; known: {{localpart}}, {{domain}}, {{recipient}}";
                    return null;
                }
                if (literal.Length > 0)
                {
                    parts.Add((literal.ToString(), false));
                    literal.Clear();
                }
                parts.Add((name, true));
                i = close + 1;
            }
            else if (c == '}')
            {
                problem = $"'}}' at position {i} has no opening '{{'";
                return null;
            }
            else
            {
                literal.Append(c);
                i++;
            }
        }
        if (literal.Length > 0)
        {
            parts.Add((literal.ToString(), false));
        }
        if (parts.Count == 0)
        {
            problem = "must not be empty";
            return null;
        }
        if (template.StartsWith('/') || template.Contains('\\', StringComparison.Ordinal))
        {
            problem = "must be a relative path using '/' between directories";
            return null;
        }
        foreach (var (text, isPlaceholder) in parts)
        {
            if (!isPlaceholder && text.Split('/').Any(s => s is "." or ".."))
            {
                problem = "must not contain '.' or '..' segments";
                return null;
            }
        }
        var parsed = new MailboxTemplate(parts);
        if (parsed.Expand("user@example.com") is null)
        {
            problem = "does not give a directory for user@example.com (empty or '.'/'..' segments)";
            return null;
        }
        problem = null;
        return parsed;
    }

    /// <summary>The relative mailbox directory for <paramref name="recipient"/>, or null when the recipient cannot name a safe one.</summary>
    public string? Expand(string recipient)
    {
        int at = recipient.LastIndexOf('@');
        string localpart = at < 0 ? recipient : recipient[..at];
        string domain = at < 0 ? string.Empty : recipient[(at + 1)..].ToLowerInvariant();
        string full = domain.Length == 0 ? localpart : localpart + "@" + domain;

        var result = new StringBuilder();
        foreach (var (text, isPlaceholder) in _parts)
        {
            if (!isPlaceholder)
            {
                result.Append(text);
                continue;
            }
            var value = text switch
            {
                "localpart" => localpart,
                "domain" => domain,
                _ => full,
            };
            if (!IsSafeValue(value))
            {
                return null;
            }
            result.Append(value);
        }

        var relative = result.ToString();
        // Literal text plus values can still meet at a separator ("{localpart}/" with an empty
        // value was refused above); check every segment of the finished path once more.
        foreach (var segment in relative.Split('/'))
        {
            // NAME_MAX is 255 bytes on Linux file systems; a longer name would fail with an I/O
            // error on every retry, so it is refused permanently here instead.
            if (segment.Length == 0 || segment is "." or ".." || Encoding.UTF8.GetByteCount(segment) > MaxSegmentBytes)
            {
                return null;
            }
        }
        return relative;
    }

    private static bool IsSafeValue(string value)
    {
        if (value.Length == 0 || value is "." or "..")
        {
            return false;
        }
        foreach (char c in value)
        {
            if (c is '/' or '\\' || char.IsControl(c))
            {
                return false;
            }
        }
        return true;
    }
}
