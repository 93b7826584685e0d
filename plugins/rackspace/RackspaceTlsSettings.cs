using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The <c>tls</c> section: client TLS towards the Identity, Cloud Files and Cloud Queues endpoints
/// (used only for https:// URLs; the scheme of each URL decides). <c>verify</c> (true) checks the
/// server certificate; <c>ca_file</c> (the seed's <c>ca_certs</c> is accepted too) is a PEM bundle
/// trusted instead of the system store; <c>certfile</c> and <c>keyfile</c> give a client certificate.
/// Paths are relative to the configuration directory.
/// </summary>
internal sealed record RackspaceTlsSettings
{
    public bool Verify { get; init; } = true;
    public string? CaFile { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }

    /// <summary>Reads the section (absent: system defaults, verified).</summary>
    public static RackspaceTlsSettings Parse(ComponentOptions? section)
    {
        if (section is null)
        {
            return new RackspaceTlsSettings();
        }
        section.RequireKnownKeys("verify", "ca_file", "ca_certs", "certfile", "keyfile");
        if (section.Has("ca_file") && section.Has("ca_certs"))
        {
            throw section.Error("ca_certs", "give either ca_file or ca_certs, not both");
        }
        var caKey = section.Has("ca_certs") ? "ca_certs" : "ca_file";
        var caFile = section.GetString(caKey);
        foreach (var (key, value) in new[] { (caKey, caFile), ("certfile", section.GetString("certfile")), ("keyfile", section.GetString("keyfile")) })
        {
            if (value is { Length: 0 })
            {
                throw section.Error(key, "must not be empty");
            }
        }
        var certFile = section.GetString("certfile");
        var keyFile = section.GetString("keyfile");
        if (keyFile is not null && certFile is null)
        {
            throw section.Error("certfile", "is required with keyfile");
        }
        return new RackspaceTlsSettings
        {
            Verify = section.GetBoolean("verify", true),
            CaFile = caFile,
            CertFile = certFile,
            KeyFile = keyFile,
        };
    }
}
