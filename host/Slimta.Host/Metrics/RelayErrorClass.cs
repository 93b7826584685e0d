namespace Slimta.Host.Metrics;

/// <summary>The <c>class</c> tag of <c>slimta.relay.errors</c>.</summary>
public enum RelayErrorClass
{
    /// <summary>No SMTP session with the next hop: connection refused or timed out, DNS (RFC 3463 X.4.x).</summary>
    Connect,

    /// <summary>Any other 4xx, and a relay that threw (the attempt is retried).</summary>
    Transient,

    /// <summary>A 5xx reply from the next hop.</summary>
    Permanent,
}
