namespace Slimta.Smtp.Dns;

/// <summary>How a DNS query ended, in the terms RFC 7208 §2.6 and §4.3 need.</summary>
public enum DnsStatus
{
    /// <summary>The name has records of the asked type.</summary>
    Found,

    /// <summary>NXDOMAIN, or the name exists without records of that type (a "void lookup", RFC 7208 §4.6.4).</summary>
    NotFound,

    /// <summary>A timeout, SERVFAIL, REFUSED or a malformed answer: try again later (temperror).</summary>
    Error,
}
