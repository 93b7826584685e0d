using System.Text.Json.Nodes;

namespace Slimta.Host.Control;

/// <summary>
/// One request on the control socket: a single JSON object on one line,
/// <c>{"command": "list|show|flush|delete|bounce|hold|release|ping", "queue": NAME?, "id": ID?}</c>.
/// </summary>
/// <param name="Command">What to do.</param>
/// <param name="Queue">The queue, or null for every queue (list, flush) or the one holding <paramref name="Id"/>.</param>
/// <param name="Id">The queue id, for the commands on one message (and flush of one).</param>
public sealed record ControlRequest(string Command, string? Queue, string? Id)
{
    /// <summary>The commands there are.</summary>
    public static IReadOnlySet<string> Commands { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "list", "show", "flush", "delete", "bounce", "hold", "release", "ping",
    };

    /// <summary>The request as its JSON line (without the newline).</summary>
    public string ToJson() => new JsonObject
    {
        ["command"] = Command,
        ["queue"] = Queue,
        ["id"] = Id,
    }.ToJsonString();

    /// <summary>Parses a request line; throws <see cref="FormatException"/> with the reason.</summary>
    public static ControlRequest Parse(string line)
    {
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(line) as JsonObject ?? throw new FormatException("the request must be a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new FormatException("the request is not JSON: " + e.Message, e);
        }
        string? Text(string key) => obj[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var command = Text("command") ?? throw new FormatException("the request has no \"command\"");
        if (!Commands.Contains(command))
        {
            throw new FormatException($"unknown command '{command}'");
        }
        return new ControlRequest(command, Text("queue"), Text("id"));
    }
}
