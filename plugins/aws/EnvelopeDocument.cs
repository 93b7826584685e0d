using System.Text.Json.Serialization;

namespace Slimta.Plugins.Aws;

/// <summary>
/// The envelope as the first line of a message object (layout in docs/operations.md, "S3 and SQS
/// layout"). Property names are part of the documented layout and match the redis queue's.
/// </summary>
internal sealed class EnvelopeDocument
{
    [JsonPropertyName("v")]
    public int Version { get; set; }

    [JsonPropertyName("sender")]
    public string? Sender { get; set; }

    [JsonPropertyName("rcpts")]
    public List<string>? Recipients { get; set; }

    [JsonPropertyName("client_ip")]
    public string? ClientAddress { get; set; }

    [JsonPropertyName("client_port")]
    public int ClientPort { get; set; }

    [JsonPropertyName("client_rdns")]
    public string? ClientReverseDns { get; set; }

    [JsonPropertyName("client_ehlo")]
    public string? ClientEhlo { get; set; }

    [JsonPropertyName("protocol")]
    public string? ClientProtocol { get; set; }

    [JsonPropertyName("auth_user")]
    public string? ClientAuthUser { get; set; }

    [JsonPropertyName("received_ms")]
    public long? ReceivedAtMs { get; set; }

    [JsonPropertyName("received_offset_min")]
    public int ReceivedOffsetMinutes { get; set; }

    [JsonPropertyName("smtputf8")]
    public bool SmtpUtf8 { get; set; }

    [JsonPropertyName("body_type")]
    public string? BodyType { get; set; }
}
