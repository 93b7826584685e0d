namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>
/// The Organizational Domain of RFC 7489 §3.2: the public suffix plus one label. Slimta ships no
/// copy of the Public Suffix List (it changes weekly and would go stale inside a release); it knows
/// a built-in set of common two-label suffixes (<c>co.uk</c>, <c>com.au</c>, …) plus
/// <c>public_suffixes</c> from the configuration, and otherwise takes the last label as the
/// suffix (the organizational domain is then the last two labels). The limitation: for a suffix it
/// does not know (<c>*.ck</c>, private suffixes such as <c>github.io</c>), relaxed alignment may pair
/// two different registrants, and the DMARC record lookup falls back to the suffix's own name.
/// </summary>
internal sealed class OrganizationalDomain
{
    /// <summary>Multi-label public suffixes common in mail (ccTLD second levels).</summary>
    public static IReadOnlyList<string> BuiltIn { get; } =
    [
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk", "nhs.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au",
        "co.nz", "org.nz", "net.nz", "ac.nz", "govt.nz", "school.nz",
        "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "ad.jp", "ed.jp", "gr.jp", "lg.jp",
        "com.br", "net.br", "org.br", "gov.br", "edu.br",
        "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn",
        "co.in", "net.in", "org.in", "gov.in", "ac.in", "firm.in", "gen.in", "ind.in",
        "co.za", "org.za", "gov.za", "ac.za", "web.za",
        "com.mx", "org.mx", "gob.mx", "edu.mx", "net.mx",
        "co.kr", "or.kr", "ne.kr", "go.kr", "ac.kr",
        "com.tw", "org.tw", "net.tw", "gov.tw", "edu.tw",
        "com.hk", "org.hk", "net.hk", "gov.hk", "edu.hk",
        "com.sg", "org.sg", "net.sg", "gov.sg", "edu.sg",
        "com.tr", "org.tr", "net.tr", "gov.tr", "edu.tr",
        "com.ar", "org.ar", "net.ar", "gob.ar",
        "co.il", "org.il", "ac.il", "gov.il",
        "co.id", "or.id", "ac.id", "go.id",
        "com.my", "org.my", "net.my", "gov.my",
        "com.ph", "org.ph", "net.ph", "gov.ph",
        "com.ua", "org.ua", "net.ua", "gov.ua",
        "com.pl", "org.pl", "net.pl", "gov.pl",
        "co.th", "or.th", "ac.th", "go.th",
        "com.vn", "org.vn", "net.vn", "gov.vn",
        "com.ng", "org.ng", "gov.ng",
        "com.eg", "org.eg", "gov.eg",
        "com.sa", "org.sa", "gov.sa",
        "com.pk", "org.pk", "gov.pk",
        "com.co", "org.co", "gov.co",
        "com.pe", "org.pe", "gob.pe",
        "com.es", "org.es", "gob.es",
        "co.at", "or.at", "gv.at",
        "com.ru", "org.ru", "net.ru",
    ];

    private readonly HashSet<string> _suffixes;

    public OrganizationalDomain(IEnumerable<string> extra) =>
        _suffixes = new HashSet<string>(BuiltIn.Concat(extra), StringComparer.OrdinalIgnoreCase);

    /// <summary>The organizational domain of <paramref name="domain"/> (lower case, no trailing dot).</summary>
    public string Of(string domain)
    {
        var labels = domain.TrimEnd('.').ToLowerInvariant().Split('.');
        // The longest known suffix that is a proper suffix of the name, else the last label.
        for (int i = 1; i < labels.Length; i++)
        {
            var suffix = string.Join('.', labels[i..]);
            if (_suffixes.Contains(suffix))
            {
                return string.Join('.', labels[(i - 1)..]);
            }
        }
        return labels.Length <= 2 ? string.Join('.', labels) : string.Join('.', labels[^2..]);
    }
}
