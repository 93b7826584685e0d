namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>A parsed policy file (RFC 8461 §3.2).</summary>
/// <param name="Mode">enforce, testing or none.</param>
/// <param name="Mx">The <c>mx</c> patterns: host names, or <c>*.</c> plus a domain for one leftmost label.</param>
/// <param name="MaxAge">How long the policy may be cached.</param>
internal sealed record MtaStsPolicy(MtaStsMode Mode, IReadOnlyList<string> Mx, TimeSpan MaxAge)
{
    /// <summary>§3.2: max_age is at most 31557600 seconds (about one year).</summary>
    public const long MaxAgeLimit = 31_557_600;

    /// <summary>
    /// True when <paramref name="host"/> matches an <c>mx</c> pattern (§4.1): equal ignoring case,
    /// or for <c>*.example.com</c>, exactly one label followed by <c>.example.com</c>.
    /// </summary>
    public bool Matches(string host)
    {
        host = host.TrimEnd('.');
        foreach (var raw in Mx)
        {
            var pattern = raw.TrimEnd('.');
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                var suffix = pattern[1..];
                if (host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    var label = host[..^suffix.Length];
                    if (label.Length > 0 && !label.Contains('.', StringComparison.Ordinal))
                    {
                        return true;
                    }
                }
            }
            else if (string.Equals(host, pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Parses a policy file; null when it is not a valid STSv1 policy.</summary>
    public static MtaStsPolicy? Parse(string text)
    {
        string? version = null, mode = null, maxAge = null;
        var mx = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            // §3.2: keys are case-sensitive; unknown keys are ignored; the first of a repeated key wins (mx repeats).
            switch (key)
            {
                case "version":
                    version ??= value;
                    break;
                case "mode":
                    mode ??= value;
                    break;
                case "max_age":
                    maxAge ??= value;
                    break;
                case "mx":
                    mx.Add(value);
                    break;
            }
        }
        if (version != "STSv1" || !long.TryParse(maxAge, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }
        var parsed = mode switch
        {
            "enforce" => MtaStsMode.Enforce,
            "testing" => MtaStsMode.Testing,
            "none" => MtaStsMode.None,
            _ => (MtaStsMode?)null,
        };
        if (parsed is null || (parsed != MtaStsMode.None && mx.Count == 0))
        {
            return null;
        }
        return new MtaStsPolicy(parsed.Value, mx, TimeSpan.FromSeconds(Math.Min(seconds, MaxAgeLimit)));
    }
}
