using System.Text;
using System.Text.RegularExpressions;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>Writing and recognising <c>Authentication-Results</c> header fields (RFC 8601).</summary>
internal static partial class AuthenticationResults
{
    public const string HeaderName = "Authentication-Results";

    /// <summary>
    /// The field value: <c>authserv-id;</c> then one <c>method=result properties</c> per line, folded
    /// with CRLF TAB (RFC 5322 §2.2.3) so long results stay readable.
    /// </summary>
    public static string Format(string authservId, IReadOnlyList<string> results)
    {
        var text = new StringBuilder(authservId);
        if (results.Count == 0)
        {
            // §2.2: "none" when no method was applied.
            return text.Append("; none").ToString();
        }
        for (int i = 0; i < results.Count; i++)
        {
            text.Append(';').Append("\r\n\t").Append(results[i]);
        }
        return text.ToString();
    }

    /// <summary>The authserv-id a field value claims (the first token, comments skipped), or null.</summary>
    public static string? AuthservIdOf(string value)
    {
        var text = CommentPattern().Replace(value, " ").Trim();
        int end = text.IndexOfAny([';', ' ', '\t']);
        var id = end < 0 ? text : text[..end];
        return id.Length == 0 ? null : id;
    }

    /// <summary>
    /// A property value (RFC 8601 §2.3 pvalue): kept as is when it is an RFC 2045 token (any
    /// printable ASCII but the tspecials <c>()&lt;&gt;@,;:\"/[]?=</c>) or an address
    /// (<c>local-part@domain</c>), else written as a quoted-string. A DKIM <c>header.b</c> prefix
    /// is base64, so it is plain unless it holds a <c>/</c> (<c>+</c> is a token character).
    /// </summary>
    public static string Value(string text)
    {
        if (text.Length > 0 && (Token().IsMatch(text) || Address().IsMatch(text)))
        {
            return text;
        }
        return "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }

    /// <summary>A comment that cannot break the field: parentheses and control characters dropped.</summary>
    public static string Comment(string text) =>
        "(" + new string(text.Where(c => c >= ' ' && c != '(' && c != ')' && c != '\\' && c != 127).ToArray()) + ")";

    [GeneratedRegex(@"\([^()]*\)")]
    private static partial Regex CommentPattern();

    [GeneratedRegex(@"^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$")]
    private static partial Regex Token();

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]*@[A-Za-z0-9.\-_]+$")]
    private static partial Regex Address();
}
