using System.Globalization;

namespace Slimta.Host.Queueing;

/// <summary>RFC 5322 §3.3 date-time text: <c>Sat, 28 Nov 2026 20:53:23 +0000</c>.</summary>
public static class Rfc5322Date
{
    /// <summary>Formats a time with its offset.</summary>
    public static string Format(DateTimeOffset time)
    {
        var offset = time.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return time.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture)
            + sign + abs.Hours.ToString("00", CultureInfo.InvariantCulture) + abs.Minutes.ToString("00", CultureInfo.InvariantCulture);
    }
}
