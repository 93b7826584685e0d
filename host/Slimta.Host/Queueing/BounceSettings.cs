using System.Text.RegularExpressions;
using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Queueing;

/// <summary>
/// The <c>queue.NAME.bounce</c> block: how this queue reports mail it could not deliver.
/// <list type="bullet">
/// <item><c>text</c>: the human-readable first part of a failure report (RFC 3464 §2 / RFC 6522).</item>
/// <item><c>delay_text</c>: the same for a delay notice.</item>
/// <item><c>include_message</c>: <c>headers</c> (default; <c>text/rfc822-headers</c>) or <c>full</c>
/// (<c>message/rfc822</c>, the whole original).</item>
/// <item><c>delay_notice</c>: seconds; when a message is still undelivered this long after it was
/// received and an attempt fails transiently, its sender gets one notice with <c>Action: delayed</c>.
/// Absent: no delay notices.</item>
/// </list>
/// Texts may use <c>{sender}</c>, <c>{fqdn}</c>, <c>{hostname}</c>, <c>{queue_id}</c> and
/// <c>{recipients}</c> (one line per recipient with its reply; appended after the text when the
/// text does not place it).
/// </summary>
/// <param name="Text">The failure report's text template.</param>
/// <param name="DelayText">The delay notice's text template.</param>
/// <param name="IncludeFullMessage">True to attach the whole original instead of its headers.</param>
/// <param name="DelayNotice">Queue time after which a delay notice is sent; null for none.</param>
public sealed partial record BounceSettings(string Text, string DelayText, bool IncludeFullMessage, TimeSpan? DelayNotice)
{
    /// <summary>The placeholders a text may use.</summary>
    public static readonly IReadOnlyList<string> Placeholders = ["sender", "fqdn", "hostname", "queue_id", "recipients"];

    /// <summary>The default failure text (in the words Postfix uses, which users recognise).</summary>
    public const string DefaultText =
        "This is the mail system at host {fqdn}.\n\n"
        + "Your message could not be delivered to one or more recipients.\n"
        + "It is attached below with the reasons.\n\n"
        + "{recipients}";

    /// <summary>The default delay notice text.</summary>
    public const string DefaultDelayText =
        "This is the mail system at host {fqdn}.\n\n"
        + "Your message could not be delivered yet to one or more recipients.\n"
        + "The mail system will keep trying; you do not need to send it again.\n\n"
        + "{recipients}";

    /// <summary>Everything by default: Postfix-like texts, original headers attached, no delay notices.</summary>
    public static BounceSettings Default { get; } = new(DefaultText, DefaultDelayText, false, null);

    /// <summary>Reads and checks a <c>bounce</c> block; errors name the key path.</summary>
    public static BounceSettings Read(ComponentOptions bounce)
    {
        ArgumentNullException.ThrowIfNull(bounce);
        bounce.RequireKnownKeys("text", "delay_text", "include_message", "delay_notice");
        var text = CheckTemplate(bounce, "text", DefaultText);
        var delayText = CheckTemplate(bounce, "delay_text", DefaultDelayText);
        var include = (bounce.GetString("include_message") ?? "headers").ToLowerInvariant();
        if (include is not ("headers" or "full"))
        {
            throw bounce.Error("include_message", $"'{bounce.GetString("include_message")}' is not 'headers' or 'full'");
        }
        TimeSpan? delay = bounce.Has("delay_notice") ? bounce.GetSeconds("delay_notice", TimeSpan.Zero) : null;
        if (delay is { } d && d <= TimeSpan.Zero)
        {
            throw bounce.Error("delay_notice", "must be more than 0 seconds (leave it out for no delay notices)");
        }
        return new BounceSettings(text, delayText, include == "full", delay);
    }

    private static string CheckTemplate(ComponentOptions bounce, string key, string fallback)
    {
        var text = bounce.GetString(key);
        if (text is null)
        {
            return fallback;
        }
        foreach (Match m in PlaceholderPattern().Matches(text))
        {
            if (!Placeholders.Contains(m.Groups[1].Value))
            {
                throw bounce.Error(key, $"unknown placeholder '{m.Value}'; known: {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))}");
            }
        }
        return text;
    }

    [GeneratedRegex(@"\{([A-Za-z_]+)\}")]
    private static partial Regex PlaceholderPattern();
}
