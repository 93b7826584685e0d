using System.Text.Json.Serialization;

namespace Slimta.Plugins.Aws;

/// <summary>
/// The body of an SQS notice, as the seed describes it: <c>{"timestamp": …, "storage_id": …}</c>.
/// <c>timestamp</c> is the message's next-attempt time when the notice was sent, in unix seconds.
/// </summary>
internal sealed class NoticeDocument
{
    [JsonPropertyName("timestamp")]
    public double Timestamp { get; set; }

    [JsonPropertyName("storage_id")]
    public string? StorageId { get; set; }
}
