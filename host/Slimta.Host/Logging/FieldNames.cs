using System.Collections.Concurrent;
using System.Text;

namespace Slimta.Host.Logging;

/// <summary>
/// Log field names as written: the message template's placeholder names in snake_case
/// (<c>{QueueId}</c> → <c>queue_id</c>), so every event uses the same spelling in text and JSON.
/// Converted once per distinct name (the set is small: the templates are constants).
/// </summary>
internal static class FieldNames
{
    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);

    public static string Of(string placeholder) => Cache.GetOrAdd(placeholder, Convert);

    private static string Convert(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                // A new word starts at an upper-case letter after a lower-case one or a digit, or
                // before a lower-case one in a run of capitals ("TLSVersion" → "tls_version").
                if (i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])
                    || (char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]))))
                {
                    sb.Append('_');
                }
                sb.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsLetterOrDigit(c))
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != '_')
            {
                sb.Append('_');
            }
        }
        return sb.ToString();
    }
}
