using System.Globalization;

namespace Slimta.Plugins.Policies;

/// <summary>Formats RFC 5322 §3.3 date-times: <c>Sat, 28 Nov 2026 21:04:05 +0100</c>.</summary>
internal static class RfcDate
{
    /// <summary>
    /// The instant <paramref name="when"/> in <paramref name="time"/>'s local time zone (the zone
    /// of this MTA, as RFC 5322 §3.3 recommends: the offset says where the date was written).
    /// </summary>
    public static string Format(DateTimeOffset when, TimeProvider time)
    {
        var local = TimeZoneInfo.ConvertTime(when, time.LocalTimeZone);
        var offset = local.Offset;
        char sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        // English day and month names regardless of the process culture (RFC 5322 day-name, month).
        return local.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture)
            + string.Create(CultureInfo.InvariantCulture, $"{sign}{offset.Hours:00}{offset.Minutes:00}");
    }

    /// <summary>The time a policy stamps: when the edge received the message, else now.</summary>
    public static DateTimeOffset StampTime(DateTimeOffset receivedAt, TimeProvider time) =>
        receivedAt == default ? time.GetUtcNow() : receivedAt;
}
