using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The <c>tls</c> section of an SMTP relay.
/// <list type="bullet">
/// <item><c>required</c> (false): without it TLS is opportunistic (RFC 7435): STARTTLS is used
/// when the server offers it, and when the handshake fails the relay reconnects and delivers in
/// plaintext. With it, a server that does not offer STARTTLS or whose handshake fails gets a
/// transient failure (4.7.0) and the message waits.</item>
/// <item><c>verify</c> (default: the value of <c>required</c>): check the server certificate
/// (chain and host name). Opportunistic TLS does not verify by default, because a failed check
/// would only push the session down to plaintext, which protects nothing.</item>
/// <item><c>ca_file</c> (optional): a PEM file of CA certificates trusted instead of the
/// system's store (relative to the configuration directory).</item>
/// </list>
/// </summary>
internal sealed class TlsSettings
{
    public bool Required { get; init; }
    public bool Verify { get; init; }
    public string? CaFile { get; init; }

    /// <summary>Reads the section (absent: opportunistic, unverified).</summary>
    public static TlsSettings Parse(ComponentOptions? section)
    {
        if (section is null)
        {
            return new TlsSettings();
        }
        section.RequireKnownKeys("required", "verify", "ca_file");
        bool required = section.GetBoolean("required", false);
        var caFile = section.GetString("ca_file");
        if (caFile is { Length: 0 })
        {
            throw section.Error("ca_file", "must not be empty");
        }
        return new TlsSettings
        {
            Required = required,
            Verify = section.GetBoolean("verify", required),
            CaFile = caFile,
        };
    }
}
