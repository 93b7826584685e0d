using System.Globalization;
using System.Text.Json.Nodes;

namespace Slimta.Host.Cli;

/// <summary>
/// Renders control protocol lines for the operator: a table for <c>list</c>, a block for
/// <c>show</c>, one line for the other commands, or the JSON lines themselves with <c>--json</c>.
/// A progress line (on standard error, only when it is a terminal) shows long operations.
/// </summary>
internal sealed partial class QueueOutput
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    // '<', '>', '+' and non-ASCII letters as themselves ("<a@b>", "+0000", "josé"), not \u003C:
    // the lines are read by people and jq, never embedded in HTML. Quotes, backslashes and
    // control characters are still escaped, so every line is valid JSON.
    private static readonly System.Text.Json.JsonSerializerOptions JsonOutput = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly bool _json;
    private readonly bool _progress;
    private readonly string _command;
    private readonly string _program;
    private bool _header;
    private int _total;
    private int _listed;
    private DateTime _lastProgress;
    private bool _progressShown;

    public QueueOutput(TextWriter output, TextWriter error, bool json, bool progress, string command, string program)
    {
        _out = output;
        _err = error;
        _json = json;
        _progress = progress;
        _command = command;
        _program = program;
    }

    /// <summary>The exit status so far: 0 after <c>ok</c>, 1 after <c>error</c> (or when neither came).</summary>
    public int ExitCode { get; private set; } = 1;

    /// <summary>True once the last line (<c>ok</c> or <c>error</c>) was seen.</summary>
    public bool Finished { get; private set; }

    public void Write(JsonObject line)
    {
        var type = Text(line, "type");
        switch (type)
        {
            case "hello":
                return;
            case "total":
                _total += Int(line, "count");
                return;
            case "progress":
                Progress($"{_command} {Text(line, "queue")}: {Int(line, "done")}/{Int(line, "total")}", Int(line, "done") == Int(line, "total"));
                return;
            case "note":
                ClearProgress();
                _err.WriteLine($"{_program}: {Text(line, "message")}");
                return;
            case "message":
                if (_json)
                {
                    _out.WriteLine(line.ToJsonString(JsonOutput));
                }
                else if (_command == "show")
                {
                    Show(line);
                }
                else if (_command == "list")
                {
                    Row(line);
                }
                _listed++;
                if (_command == "list" && _total > 0)
                {
                    Progress($"list: {_listed}/{_total}", _listed == _total);
                }
                return;
            case "ok":
                ClearProgress();
                Finished = true;
                ExitCode = 0;
                if (_json)
                {
                    _out.WriteLine(line.ToJsonString(JsonOutput));
                }
                else if (_command == "list")
                {
                    _out.WriteLine($"-- {Text(line, "message")}");
                }
                else if (_command != "show")
                {
                    _out.WriteLine(Text(line, "message"));
                }
                return;
            case "error":
                ClearProgress();
                Finished = true;
                ExitCode = 1;
                if (_json)
                {
                    _out.WriteLine(line.ToJsonString(JsonOutput));
                }
                _err.WriteLine($"{_program}: queue {_command}: {Text(line, "message")}");
                return;
            default:
                return;
        }
    }

    /// <summary>The table's columns: queue, id, queued at, next attempt, attempts, size, sender, recipients.</summary>
    private void Row(JsonObject m)
    {
        if (!_header)
        {
            _header = true;
            _out.WriteLine($"{"QUEUE",-10} {"ID",-32} {"QUEUED AT (UTC)",-19} {"NEXT ATTEMPT",-19} {"TRIES",5} {"SIZE",8}  SENDER -> RECIPIENTS");
        }
        ClearProgress();
        var next = Text(m, "state") switch
        {
            "held" => "held",
            "running" => "running now",
            _ => Short(Text(m, "next_attempt")),
        };
        var recipients = m["recipients"] is JsonArray a ? string.Join(", ", a.Select(r => $"<{Safe(r)}>")) : "";
        _out.WriteLine($"{Text(m, "queue"),-10} {Text(m, "id"),-32} {Short(Text(m, "received_at")),-19} {next,-19} {Int(m, "attempts"),5} {Size(Int(m, "size")),8}  <{Text(m, "sender")}> -> {recipients}");
    }

    private void Show(JsonObject m)
    {
        void Field(string name, string? value) => _out.WriteLine($"{name + ":",-14}{value}");
        Field("id", Text(m, "id"));
        Field("queue", Text(m, "queue"));
        Field("state", Text(m, "state"));
        Field("queued at", Short(Text(m, "received_at")) + " UTC");
        Field("next attempt", Text(m, "state") == "held" ? "held (release to deliver)" : Short(Text(m, "next_attempt")) + " UTC");
        Field("attempts", Int(m, "attempts").ToString(CultureInfo.InvariantCulture));
        Field("size", $"{Int(m, "size")} bytes");
        Field("sender", $"<{Text(m, "sender")}>");
        Field("recipients", m["recipients"] is JsonArray r ? string.Join(", ", r.Select(x => $"<{Safe(x)}>")) : "");
        if (m["delivered"] is JsonArray d && d.Count > 0)
        {
            Field("delivered", string.Join(", ", d.Select(x => $"<{Safe(x)}>")));
        }
        if (m["client"] is JsonObject c)
        {
            var rdns = Text(c, "reverse_dns") is { } name ? $" ({name})" : "";
            var auth = Text(c, "auth_user") is { } user ? $", authenticated as {user}" : "";
            Field("client", $"{Text(c, "address")} port {Int(c, "port")}{rdns}, EHLO {Text(c, "ehlo") ?? "-"}, {Text(c, "protocol")}{auth}");
        }
        if (m["headers"] is JsonArray headers)
        {
            _out.WriteLine("headers:");
            foreach (var h in headers.OfType<JsonArray>())
            {
                // A folded value (RFC 5322 2.2.3) is shown unfolded, on one line.
                var value = FoldedLineBreak().Replace(h[1]?.GetValue<string>() ?? "", string.Empty);
                _out.WriteLine($"  {Safe(h[0])}: {Safe(value)}");
            }
        }
    }

    private void Progress(string text, bool last)
    {
        if (!_progress)
        {
            return;
        }
        var now = DateTime.UtcNow;
        if (!last && now - _lastProgress < ProgressInterval)
        {
            return;
        }
        _lastProgress = now;
        _err.Write($"\r{text}\u001b[K");
        _progressShown = true;
    }

    private void ClearProgress()
    {
        if (_progressShown)
        {
            _err.Write("\r\u001b[K");
            _progressShown = false;
        }
    }

    private static string Short(string? iso) =>
        iso is null ? "-" : DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : iso;

    private static string Size(int bytes) => bytes switch
    {
        < 10_000 => bytes.ToString(CultureInfo.InvariantCulture),
        < 10_000_000 => $"{bytes / 1024}K",
        _ => $"{bytes / (1024 * 1024)}M",
    };

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? Safe(s) : null;

    /// <summary>
    /// Envelope addresses, the EHLO name and header values come from remote clients: printed raw,
    /// their control characters (ESC sequences, BEL, backspace, a bare CR) would act on the
    /// operator's terminal — clear it, retitle it, hide text. They are shown as <c>\xNN</c>
    /// (<c>\u2028</c> for Unicode line and paragraph separators), so the output stays one item
    /// per line; <c>--json</c> is escaped by JSON.
    /// </summary>
    internal static string Safe(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }
        var b = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (c is '\u2028' or '\u2029')
            {
                b.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else if (char.IsControl(c) && c != '\t')
            {
                b.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                b.Append(c);
            }
        }
        return b.ToString();
    }

    private static bool NeedsEscape(char c) => c is '\u2028' or '\u2029' || (char.IsControl(c) && c != '\t');

    private static string Safe(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? Safe(s) : node?.ToString() ?? "";

    private static int Int(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<int>(out var n) ? n : 0;

    [System.Text.RegularExpressions.GeneratedRegex("\r?\n(?=[ \t])")]
    private static partial System.Text.RegularExpressions.Regex FoldedLineBreak();
}
