namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>The policy modes of RFC 8461 §5.</summary>
internal enum MtaStsMode
{
    /// <summary>No policy, or <c>mode: none</c>: deliver as without MTA-STS.</summary>
    None,

    /// <summary><c>mode: testing</c>: check and log failures, but deliver anyway.</summary>
    Testing,

    /// <summary><c>mode: enforce</c>: only matching MX hosts, only over verified TLS.</summary>
    Enforce,
}
