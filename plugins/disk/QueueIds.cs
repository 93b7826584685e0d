namespace Slimta.Plugins.Disk;

/// <summary>
/// Queue ids become file names, so only the engine's format is accepted: 32 hexadecimal digits.
/// Anything else (a path separator, "..", an empty string) could escape the spool directory.
/// </summary>
internal static class QueueIds
{
    public static bool IsValid(string? id)
    {
        if (id is null || id.Length != 32)
        {
            return false;
        }
        foreach (char c in id)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    public static string Check(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return IsValid(id) ? id : throw new ArgumentException($"'{id}' is not a queue id (32 hexadecimal digits).", nameof(id));
    }
}
