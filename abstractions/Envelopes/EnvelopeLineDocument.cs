using System.Text.Json.Serialization;

namespace Slimta.Abstractions.Envelopes;

/// <summary>
/// The JSON line of <see cref="EnvelopeLine"/>. Property names are part of the documented layouts
/// (docs/operations.md) and match the redis queue's hash fields.
/// </summary>
public sealed class EnvelopeLineDocument
{
    /// <summary>Layout version (<c>v</c>).</summary>
    [JsonPropertyName("v")]
    public int Version { get; set; }

    /// <summary>Reverse-path without brackets; empty for the null sender.</summary>
    [JsonPropertyName("sender")]
    public string? Sender { get; set; }

    /// <summary>The original recipient list.</summary>
    [JsonPropertyName("rcpts")]
    public List<string>? Recipients { get; set; }

    /// <summary>Client IP address.</summary>
    [JsonPropertyName("client_ip")]
    public string? ClientAddress { get; set; }

    /// <summary>Client TCP port.</summary>
    [JsonPropertyName("client_port")]
    public int ClientPort { get; set; }

    /// <summary>Client reverse DNS name.</summary>
    [JsonPropertyName("client_rdns")]
    public string? ClientReverseDns { get; set; }

    /// <summary>The EHLO/HELO name the client gave.</summary>
    [JsonPropertyName("client_ehlo")]
    public string? ClientEhlo { get; set; }

    /// <summary>RFC 3848 protocol name (<c>ESMTPS</c>, …).</summary>
    [JsonPropertyName("protocol")]
    public string? ClientProtocol { get; set; }

    /// <summary>The AUTH identity, when the client authenticated.</summary>
    [JsonPropertyName("auth_user")]
    public string? ClientAuthUser { get; set; }

    /// <summary>When the edge received the message, unix milliseconds.</summary>
    [JsonPropertyName("received_ms")]
    public long? ReceivedAtMs { get; set; }

    /// <summary>The UTC offset of the receive time, minutes.</summary>
    [JsonPropertyName("received_offset_min")]
    public int ReceivedOffsetMinutes { get; set; }

    /// <summary>MAIL FROM had SMTPUTF8.</summary>
    [JsonPropertyName("smtputf8")]
    public bool SmtpUtf8 { get; set; }

    /// <summary>MAIL FROM's BODY= value.</summary>
    [JsonPropertyName("body_type")]
    public string? BodyType { get; set; }
}
