using System.Globalization;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Aws;

/// <summary>
/// The message object <c>&lt;prefix&gt;&lt;id&gt;</c>, written once and never changed: its body is the
/// envelope as one line of JSON (<see cref="EnvelopeLine"/>; JSON escapes every control
/// character inside strings, so the first LF ends it), then LF, then the message bytes untouched.
/// Its user metadata holds the layout version and the initial state (next attempt, notice id).
/// </summary>
internal static class MessageObject
{
    /// <summary>The layout version this build writes and reads.</summary>
    public const int LayoutVersion = 1;

    /// <summary>User metadata: layout version.</summary>
    public const string LayoutKey = "slimta-layout";

    /// <summary>User metadata: next attempt at write time, unix milliseconds.</summary>
    public const string NextKey = "next-ms";

    /// <summary>User metadata: the SQS message id of the first notice (shared queues).</summary>
    public const string NoticeKey = "notice";

    /// <summary>The object body of <paramref name="envelope"/>.</summary>
    public static byte[] Encode(Envelope envelope) => EnvelopeLine.Encode(envelope, LayoutVersion);

    /// <summary>Reads a body back; throws <see cref="InvalidDataException"/> for a body this build cannot read.</summary>
    public static Envelope Decode(string id, byte[] body) => EnvelopeLine.Decode(id, body, LayoutVersion, $"message object {id}");

    /// <summary>Formats unix milliseconds for metadata.</summary>
    public static string FormatMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses metadata unix milliseconds; null when absent or malformed.</summary>
    public static long? ParseMs(string? value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms) ? ms : null;
}
