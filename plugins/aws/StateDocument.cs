using System.Text.Json.Serialization;

namespace Slimta.Plugins.Aws;

/// <summary>
/// The state object <c>&lt;prefix&gt;&lt;id&gt;.state</c>: everything about a message that changes.
/// It is absent until the first change; until then the message object's metadata holds the
/// initial values (0 attempts, nothing delivered, <c>next-ms</c>, <c>notice</c>).
/// </summary>
internal sealed class StateDocument
{
    [JsonPropertyName("v")]
    public int Version { get; set; } = MessageObject.LayoutVersion;

    [JsonPropertyName("attempts")]
    public int Attempts { get; set; }

    [JsonPropertyName("next_ms")]
    public long NextMs { get; set; }

    [JsonPropertyName("delivered")]
    public List<int> Delivered { get; set; } = [];

    /// <summary>The SQS message id of the message's one valid notice (shared queues), else null.</summary>
    [JsonPropertyName("notice")]
    public string? Notice { get; set; }
}
