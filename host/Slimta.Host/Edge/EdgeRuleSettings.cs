using Slimta.Smtp.Dns;
using Slimta.Host.Edge.Dnsbl;
using Slimta.Host.Edge.Spam;
using Slimta.Smtp.Spf;

namespace Slimta.Host.Edge;

/// <summary>The DNS- and content-based checks of an SMTP edge (<c>dns</c>, <c>reverse_dns</c>, <c>rules.dnsbl</c>, <c>rules.reject_spf</c>, <c>rules.reject_spam</c>).</summary>
public sealed record EdgeRuleSettings
{
    /// <summary>No checks: the defaults.</summary>
    public static EdgeRuleSettings None { get; } = new();

    /// <summary>The resolver the checks use (<c>dns: {servers, timeout}</c>).</summary>
    public DnsSettings Dns { get; init; } = DnsSettings.Default;

    /// <summary>Record the client's forward-confirmed reverse DNS name (<c>reverse_dns</c>, default false).</summary>
    public bool ReverseDns { get; init; }

    /// <summary>The blocklists (<c>rules.dnsbl</c>), or null.</summary>
    public DnsblSettings? Dnsbl { get; init; }

    /// <summary>SPF results refused at MAIL (<c>rules.reject_spf</c>); empty: SPF is not evaluated.</summary>
    public IReadOnlySet<SpfResult> RejectSpf { get; init; } = new HashSet<SpfResult>();

    /// <summary>spamd to ask after DATA (<c>rules.reject_spam</c>), or null.</summary>
    public SpamdSettings? RejectSpam { get; init; }

    /// <summary>True when a check needs DNS.</summary>
    public bool NeedsDns => ReverseDns || Dnsbl is not null || RejectSpf.Count > 0;
}
