using System.Globalization;
using System.Text.RegularExpressions;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Http;

/// <summary>
/// Parses the <c>X-Smtp-Reply</c> response header by which an HTTP next hop states an SMTP
/// reply. python-slimta's form is <c>550; message="5.7.1 Rejected"; command="DATA"</c>; the plain
/// form <c>550 5.7.1 Rejected</c> is accepted too.
/// </summary>
internal static partial class HttpRelaySmtpReply
{
    /// <summary>The reply, or null when the header does not start with a reply code 200–599.</summary>
    public static Reply? Parse(string? header)
    {
        if (header is null)
        {
            return null;
        }
        var text = header.Trim();
        if (text.Length < 3 || !int.TryParse(text.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int code) || code is < 200 or > 599)
        {
            return null;
        }
        var rest = text[3..].TrimStart();
        string message;
        if (rest.StartsWith(';'))
        {
            var match = MessageParameter().Match(rest);
            message = match.Success ? match.Groups[1].Value.Replace("\\\"", "\"", StringComparison.Ordinal) : string.Empty;
        }
        else
        {
            message = rest;
        }
        // Reply text goes into DSNs and logs: keep it on one line.
        message = string.Concat(message.Select(c => char.IsControl(c) ? ' ' : c));
        return Reply.Parse($"{code} {message}".TrimEnd());
    }

    [GeneratedRegex(@"message\s*=\s*""((?:[^""\\]|\\.)*)""", RegexOptions.CultureInvariant)]
    private static partial Regex MessageParameter();
}
