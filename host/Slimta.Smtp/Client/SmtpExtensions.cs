using System.Globalization;

namespace Slimta.Smtp.Client;

/// <summary>
/// The service extensions a server advertised in its EHLO/LHLO reply (RFC 5321 §4.1.1.1): each
/// line after the first is a keyword with optional parameters. Keywords are case-insensitive.
/// </summary>
public sealed class SmtpExtensions
{
    private readonly Dictionary<string, string> _keywords;

    /// <summary>No extensions (a HELO session).</summary>
    public static SmtpExtensions None { get; } = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));

    private SmtpExtensions(Dictionary<string, string> keywords) => _keywords = keywords;

    /// <summary>Parses the text of a 250 EHLO reply (lines separated by <c>\n</c>; the first line is the server's name).</summary>
    public static SmtpExtensions Parse(string ehloReplyText)
    {
        ArgumentNullException.ThrowIfNull(ehloReplyText);
        var keywords = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lines = ehloReplyText.Split('\n');
        for (int i = 1; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }
            int space = line.IndexOf(' ');
            var keyword = space < 0 ? line : line[..space];
            var parameters = space < 0 ? string.Empty : line[(space + 1)..].Trim();
            keywords.TryAdd(keyword, parameters);
        }
        return new SmtpExtensions(keywords);
    }

    /// <summary>The advertised keywords.</summary>
    public IEnumerable<string> Keywords => _keywords.Keys;

    /// <summary>True when <paramref name="keyword"/> was advertised.</summary>
    public bool Has(string keyword) => _keywords.ContainsKey(keyword);

    /// <summary>The parameters of <paramref name="keyword"/> (empty when it has none), or null when not advertised.</summary>
    public string? GetParameters(string keyword) => _keywords.GetValueOrDefault(keyword);

    /// <summary>PIPELINING (RFC 2920).</summary>
    public bool Pipelining => Has("PIPELINING");

    /// <summary>8BITMIME (RFC 6152).</summary>
    public bool EightBitMime => Has("8BITMIME");

    /// <summary>SMTPUTF8 (RFC 6531).</summary>
    public bool SmtpUtf8 => Has("SMTPUTF8");

    /// <summary>STARTTLS (RFC 3207).</summary>
    public bool StartTls => Has("STARTTLS");

    /// <summary>ENHANCEDSTATUSCODES (RFC 2034).</summary>
    public bool EnhancedStatusCodes => Has("ENHANCEDSTATUSCODES");

    /// <summary>True when SIZE (RFC 1870) was advertised, with or without a limit.</summary>
    public bool HasSize => Has("SIZE");

    /// <summary>The SIZE limit in bytes; null when SIZE was not advertised or has no (or a zero) limit.</summary>
    public long? MaxSize =>
        long.TryParse(GetParameters("SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0 ? size : null;

    /// <summary>The SASL mechanisms advertised with AUTH (RFC 4954), upper-cased.</summary>
    public IReadOnlyList<string> AuthMechanisms =>
        GetParameters("AUTH") is { } p
            ? p.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(m => m.ToUpperInvariant()).ToList()
            : [];
}
