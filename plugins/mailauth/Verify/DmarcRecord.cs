using System.Globalization;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>The tags of a DMARC record (RFC 7489 §6.3) that a receiver applies.</summary>
/// <param name="Policy">p: none, quarantine or reject.</param>
/// <param name="SubdomainPolicy">sp, or null when absent (then p applies to subdomains).</param>
/// <param name="StrictDkim">adkim=s.</param>
/// <param name="StrictSpf">aspf=s.</param>
/// <param name="Percent">pct (0–100, default 100).</param>
internal sealed record DmarcRecord(string Policy, string? SubdomainPolicy, bool StrictDkim, bool StrictSpf, int Percent)
{
    /// <summary>True for a TXT string that starts with <c>v=DMARC1</c> (§6.6.3 step 2 keeps only those).</summary>
    public static bool IsDmarc(string text)
    {
        var first = text.Split(';', 2)[0];
        int eq = first.IndexOf('=');
        return eq > 0 && first[..eq].Trim() == "v" && first[(eq + 1)..].Trim() == "DMARC1";
    }

    /// <summary>Parses a record; null when it is not valid (no or a bad <c>p</c> and no <c>rua</c>): §6.6.3 then applies no DMARC.</summary>
    public static DmarcRecord? Parse(string text)
    {
        var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(';'))
        {
            int eq = part.IndexOf('=');
            if (eq > 0)
            {
                tags.TryAdd(part[..eq].Trim(), part[(eq + 1)..].Trim());
            }
        }
        if (!tags.TryGetValue("p", out var p) || PolicyName(p) is not { } policy)
        {
            // §6.6.3 step 6: without a valid p, a record that names a report URI is taken as
            // p=none (the owner wants reports); otherwise no DMARC processing applies.
            if (!tags.TryGetValue("rua", out var rua) || !rua.Split(',').Any(u => u.Trim().StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) && u.Contains('@', StringComparison.Ordinal)))
            {
                return null;
            }
            policy = "none";
        }
        // §6.3: an invalid sp, adkim, aspf or pct is ignored (its default applies).
        var sp = tags.TryGetValue("sp", out var s) ? PolicyName(s) : null;
        int pct = tags.TryGetValue("pct", out var pt) && int.TryParse(pt, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 100 ? n : 100;
        return new DmarcRecord(policy, sp,
            tags.TryGetValue("adkim", out var ad) && ad.Equals("s", StringComparison.OrdinalIgnoreCase),
            tags.TryGetValue("aspf", out var asf) && asf.Equals("s", StringComparison.OrdinalIgnoreCase),
            pct);
    }

    private static string? PolicyName(string text) => text.ToLowerInvariant() switch
    {
        "none" => "none",
        "quarantine" => "quarantine",
        "reject" => "reject",
        _ => null,
    };
}
