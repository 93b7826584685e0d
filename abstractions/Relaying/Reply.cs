namespace Slimta.Abstractions.Relaying;

/// <summary>An SMTP reply: a three-digit code, an optional RFC 3463 enhanced status code, and text.</summary>
/// <param name="Code">The reply code (200–599).</param>
/// <param name="EnhancedStatus">The enhanced status code such as <c>5.1.1</c>, or null.</param>
/// <param name="Text">The human-readable text; lines of a multi-line reply are separated by <c>\n</c>.</param>
public sealed record Reply(int Code, string? EnhancedStatus, string Text)
{
    /// <summary>2xx.</summary>
    public bool IsSuccess => Code is >= 200 and < 300;

    /// <summary>4xx: try again later.</summary>
    public bool IsTransient => Code is >= 400 and < 500;

    /// <summary>5xx: do not try again.</summary>
    public bool IsPermanent => Code >= 500;

    /// <summary>The reply as one line: <c>550 5.1.1 text</c> (multi-line text joined by spaces).</summary>
    public override string ToString()
    {
        var text = Text.Replace('\n', ' ');
        return EnhancedStatus is null ? $"{Code} {text}" : $"{Code} {EnhancedStatus} {text}";
    }

    /// <summary>The enhanced status code, or one derived from the reply class (<c>2.0.0</c>, <c>4.0.0</c>, <c>5.0.0</c>).</summary>
    public string StatusOrDefault => EnhancedStatus ?? $"{Code / 100}.0.0";

    /// <summary>Parses <c>"250 2.0.0 Ok"</c> or <c>"421 try later"</c>; the enhanced code is recognised when present.</summary>
    public static Reply Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), out int code))
        {
            throw new FormatException($"'{line}' does not start with a reply code.");
        }
        var rest = line.Length > 4 ? line[4..] : string.Empty;
        int space = rest.IndexOf(' ');
        var first = space < 0 ? rest : rest[..space];
        if (IsEnhancedStatus(first, code))
        {
            return new Reply(code, first, space < 0 ? string.Empty : rest[(space + 1)..]);
        }
        return new Reply(code, null, rest);
    }

    /// <summary>True when <paramref name="text"/> looks like an enhanced status code matching the reply class.</summary>
    public static bool IsEnhancedStatus(string text, int code)
    {
        ArgumentNullException.ThrowIfNull(text);
        return IsEnhancedStatus(text.AsSpan(), code);
    }

    /// <summary>
    /// True when <paramref name="text"/> is <c>class.subject.detail</c> (RFC 3463 §2): the class
    /// digit matches the reply class, subject and detail are 1–3 digits each.
    /// </summary>
    public static bool IsEnhancedStatus(ReadOnlySpan<char> text, int code)
    {
        // Checked in place: this runs for every reply a relay reads.
        if (text.Length < 5 || text[0] - '0' != code / 100 || text[1] != '.')
        {
            return false;
        }
        var rest = text[2..];
        int dot = rest.IndexOf('.');
        return dot is >= 1 and <= 3 && IsDigits(rest[..dot])
            && rest.Length - dot - 1 is >= 1 and <= 3 && IsDigits(rest[(dot + 1)..]);
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.ContainsAnyExceptInRange('0', '9');
}
