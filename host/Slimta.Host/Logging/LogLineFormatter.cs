using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Slimta.Host.Logging;

/// <summary>
/// Turns one log call into one line (no newline inside it, whatever the values hold), as text or
/// JSON. Fields are the message template's placeholders in snake_case (see <see cref="FieldNames"/>);
/// events of <see cref="LogEvents"/> carry their stable name in <c>event</c>. Only called for
/// enabled levels, so its allocations never touch a disabled hot path.
/// </summary>
internal static class LogLineFormatter
{
    private const string OriginalFormat = "{OriginalFormat}";

    // Log lines are read by people and log shippers, never embedded in HTML: keep '<', '>', '&'
    // and non-ASCII text readable instead of \u003C escapes (control characters are still escaped).
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static StringBuilder? t_text;

    /// <summary>The short level names written in both formats.</summary>
    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    public static string Format<TState>(LogFormat format, DateTimeOffset time, LogLevel level, string category, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        var fields = state as IReadOnlyList<KeyValuePair<string, object?>>;
        return format == LogFormat.Json
            ? Json(time, level, category, eventId.Name, fields, message, exception)
            : Text(time, level, category, eventId.Name, fields, message, exception);
    }

    private static string Json(DateTimeOffset time, LogLevel level, string category, string? eventName, IReadOnlyList<KeyValuePair<string, object?>>? fields, string message, Exception? exception)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            json.WriteString("level", LevelName(level));
            if (eventName is not null)
            {
                json.WriteString("event", eventName);
            }
            json.WriteString("category", category);
            if (fields is not null)
            {
                for (int i = 0; i < fields.Count; i++)
                {
                    var (key, value) = fields[i];
                    if (key == OriginalFormat)
                    {
                        continue;
                    }
                    var name = FieldNames.Of(key);
                    if (name is "time" or "level" or "event" or "category" or "message" or "exception")
                    {
                        // A placeholder must not overwrite the envelope of the line.
                        name = "field_" + name;
                    }
                    json.WritePropertyName(name);
                    WriteJsonValue(json, value);
                }
            }
            json.WriteString("message", message);
            if (exception is not null)
            {
                json.WriteString("exception", exception.ToString());
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteJsonValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case bool b:
                json.WriteBooleanValue(b);
                break;
            case int n:
                json.WriteNumberValue(n);
                break;
            case long n:
                json.WriteNumberValue(n);
                break;
            case short n:
                json.WriteNumberValue(n);
                break;
            case byte n:
                json.WriteNumberValue(n);
                break;
            case uint n:
                json.WriteNumberValue(n);
                break;
            case ulong n:
                json.WriteNumberValue(n);
                break;
            case double d when double.IsFinite(d):
                json.WriteNumberValue(d);
                break;
            case float f when float.IsFinite(f):
                json.WriteNumberValue(f);
                break;
            case decimal m:
                json.WriteNumberValue(m);
                break;
            case string s:
                json.WriteStringValue(s);
                break;
            case DateTimeOffset t:
                json.WriteStringValue(t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                break;
            case DateTime t:
                json.WriteStringValue(t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                break;
            case IEnumerable list:
                json.WriteStartArray();
                foreach (var item in list)
                {
                    WriteJsonValue(json, item);
                }
                json.WriteEndArray();
                break;
            default:
                json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string Text(DateTimeOffset time, LogLevel level, string category, string? eventName, IReadOnlyList<KeyValuePair<string, object?>>? fields, string message, Exception? exception)
    {
        var sb = t_text ??= new StringBuilder(256);
        sb.Clear();
        sb.Append(time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(' ');
        sb.Append(LevelName(level)).Append(' ');
        bool wroteField = false;
        if (eventName is not null)
        {
            // A named event: its name, then its fields as key=value (logfmt), grep- and awk-friendly.
            sb.Append(eventName);
            if (fields is not null)
            {
                for (int i = 0; i < fields.Count; i++)
                {
                    var (key, value) = fields[i];
                    if (key == OriginalFormat)
                    {
                        continue;
                    }
                    sb.Append(' ').Append(FieldNames.Of(key)).Append('=');
                    AppendTextValue(sb, value);
                    wroteField = true;
                }
            }
            if (!wroteField)
            {
                sb.Append(" message=");
                AppendQuoted(sb, message);
            }
        }
        else
        {
            sb.Append(category).Append(": ");
            AppendEscaped(sb, message);
        }
        if (exception is not null)
        {
            sb.Append(" exception=");
            AppendQuoted(sb, exception.GetType().Name + ": " + exception.Message);
        }
        return sb.ToString();
    }

    private static void AppendTextValue(StringBuilder sb, object? value)
    {
        var text = value switch
        {
            null => "-",
            bool b => b ? "true" : "false",
            DateTimeOffset t => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            DateTime t => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            string s => s,
            IEnumerable list => string.Join(",", list.Cast<object?>().Select(o => Convert.ToString(o, CultureInfo.InvariantCulture))),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
        };
        bool quote = text.Length == 0;
        foreach (char c in text)
        {
            if (c is ' ' or '"' or '=' or '\\' || char.IsControl(c))
            {
                quote = true;
                break;
            }
        }
        if (quote)
        {
            AppendQuoted(sb, text);
        }
        else
        {
            sb.Append(text);
        }
    }

    private static void AppendQuoted(StringBuilder sb, string text)
    {
        sb.Append('"');
        foreach (char c in text)
        {
            if (c is '"' or '\\')
            {
                sb.Append('\\').Append(c);
            }
            else
            {
                AppendEscapedChar(sb, c);
            }
        }
        sb.Append('"');
    }

    private static void AppendEscaped(StringBuilder sb, string text)
    {
        foreach (char c in text)
        {
            AppendEscapedChar(sb, c);
        }
    }

    /// <summary>Control characters never reach the output raw: one event stays one line.</summary>
    private static void AppendEscapedChar(StringBuilder sb, char c)
    {
        switch (c)
        {
            case '\n':
                sb.Append("\\n");
                break;
            case '\r':
                sb.Append("\\r");
                break;
            case '\t':
                sb.Append("\\t");
                break;
            default:
                if (char.IsControl(c))
                {
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                }
                else
                {
                    sb.Append(c);
                }
                break;
        }
    }
}
