using System.Globalization;
using System.Text;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The queue state kept as Cloud Files object metadata (docs/operations.md, "Rackspace layout"):
/// <c>X-Object-Meta-Timestamp</c> (next attempt, unix seconds with milliseconds, as slimta wrote
/// it), <c>X-Object-Meta-Attempts</c> and <c>X-Object-Meta-Delivered-Rcpts</c> (delivered
/// recipient indexes as ranges, <c>0-4,7</c>). Swift limits a metadata value to 256 bytes, so a long
/// delivered list continues in <c>X-Object-Meta-Delivered-Rcpts-2</c>, <c>-3</c>, …
/// <para>
/// A Swift POST replaces every X-Object-Meta-* header of the object, so every update writes all of
/// them (<see cref="ToHeaders"/>) after reading the current ones.
/// </para>
/// </summary>
/// <param name="NextAttempt">When the message is due.</param>
/// <param name="Attempts">Attempts so far.</param>
/// <param name="Delivered">Delivered recipient indexes.</param>
/// <param name="Notice">
/// <c>X-Object-Meta-Notice</c>: the Cloud Queues message id of the message's one valid notice, once
/// a notice replaced another (an operator made the message due earlier, or an old notice was
/// renewed); other notices of the message are duplicates. Absent: every notice of it is valid.
/// </param>
internal sealed record ObjectMetadata(DateTimeOffset NextAttempt, int Attempts, IReadOnlySet<int> Delivered, string? Notice = null)
{
    public const string TimestampHeader = "X-Object-Meta-Timestamp";
    public const string NoticeHeader = "X-Object-Meta-Notice";
    public const string AttemptsHeader = "X-Object-Meta-Attempts";
    public const string DeliveredHeader = "X-Object-Meta-Delivered-Rcpts";

    /// <summary>Swift's default max_meta_value_length.</summary>
    private const int MaxValueLength = 256;

    /// <summary>Swift's default max_meta_overall_size is 4096 bytes of names and values; leave room for the other two.</summary>
    private const int MaxDeliveredChunks = 12;

    /// <summary>The headers that write this state (all of them: a POST replaces the object's metadata).</summary>
    public IEnumerable<KeyValuePair<string, string>> ToHeaders()
    {
        yield return new(TimestampHeader, FormatTimestamp(NextAttempt));
        yield return new(AttemptsHeader, Attempts.ToString(CultureInfo.InvariantCulture));
        if (Notice is not null)
        {
            yield return new(NoticeHeader, Notice);
        }
        var ranges = FormatRanges(Delivered);
        if (ranges.Length == 0)
        {
            yield break;
        }
        var chunks = Chunk(ranges);
        if (chunks.Count > MaxDeliveredChunks)
        {
            throw new InvalidOperationException($"the delivered recipient list ({ranges.Length} characters) does not fit into Cloud Files object metadata");
        }
        for (int i = 0; i < chunks.Count; i++)
        {
            yield return new(i == 0 ? DeliveredHeader : DeliveredHeader + "-" + (i + 1).ToString(CultureInfo.InvariantCulture), chunks[i]);
        }
    }

    /// <summary>Reads the state from a HEAD or GET response; null when the object has no timestamp (not a queued message).</summary>
    public static ObjectMetadata? FromHeaders(Func<string, string?> header)
    {
        var ts = header(TimestampHeader);
        if (ts is null || !decimal.TryParse(ts, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }
        var next = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000m, MidpointRounding.AwayFromZero));
        int attempts = int.TryParse(header(AttemptsHeader), NumberStyles.None, CultureInfo.InvariantCulture, out var a) ? a : 0;
        var text = new StringBuilder(header(DeliveredHeader) ?? string.Empty);
        for (int i = 2; header(DeliveredHeader + "-" + i.ToString(CultureInfo.InvariantCulture)) is { } more; i++)
        {
            text.Append(more);
        }
        var notice = header(NoticeHeader);
        return new ObjectMetadata(next, attempts, ParseRanges(text.ToString()), string.IsNullOrEmpty(notice) ? null : notice);
    }

    /// <summary>Unix seconds with three decimals, the unit slimta's Python storage used.</summary>
    public static string FormatTimestamp(DateTimeOffset when)
    {
        long ms = when.ToUnixTimeMilliseconds();
        return (ms / 1000m).ToString("0.000", CultureInfo.InvariantCulture);
    }

    internal static string FormatRanges(IReadOnlySet<int> indexes)
    {
        var sb = new StringBuilder();
        int[] sorted = [.. indexes.Order()];
        for (int i = 0; i < sorted.Length;)
        {
            int start = sorted[i], end = start;
            while (i + 1 < sorted.Length && sorted[i + 1] == end + 1)
            {
                end = sorted[++i];
            }
            i++;
            if (sb.Length > 0)
            {
                sb.Append(',');
            }
            sb.Append(start.ToString(CultureInfo.InvariantCulture));
            if (end != start)
            {
                sb.Append('-').Append(end.ToString(CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    internal static HashSet<int> ParseRanges(string text)
    {
        var set = new HashSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-', 1);
            if (dash < 0)
            {
                set.Add(int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture));
                continue;
            }
            int start = int.Parse(part.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture);
            int end = int.Parse(part.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture);
            for (int i = start; i <= end; i++)
            {
                set.Add(i);
            }
        }
        return set;
    }

    /// <summary>Splits at commas into values of at most 256 characters.</summary>
    private static List<string> Chunk(string ranges)
    {
        var chunks = new List<string>();
        int start = 0;
        while (ranges.Length - start > MaxValueLength)
        {
            int cut = ranges.LastIndexOf(',', start + MaxValueLength - 1, MaxValueLength - 1);
            chunks.Add(ranges[start..cut]);
            start = cut; // the next chunk starts with the comma, which the parser ignores
        }
        chunks.Add(ranges[start..]);
        return chunks;
    }
}
