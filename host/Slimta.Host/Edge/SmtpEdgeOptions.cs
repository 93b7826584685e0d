namespace Slimta.Host.Edge;

/// <summary>
/// The options of an SMTP edge (<c>edge.NAME</c> with <c>type: smtp</c>), validated. Templates
/// (<c>{fqdn}</c>, <c>{hostname}</c>) in <see cref="Hostname"/> and <see cref="Banner"/> are
/// expanded when the edge is created. Read them with <see cref="SmtpEdgeOptionsParser"/>.
/// </summary>
public sealed record SmtpEdgeOptions
{
    /// <summary>The TCP listeners (<c>listener</c> or <c>listeners</c>); at least one.</summary>
    public required IReadOnlyList<SmtpListenerOptions> Listeners { get; init; }

    /// <summary>This MTA's name (<c>hostname</c>); null means the process FQDN.</summary>
    public string? Hostname { get; init; }

    /// <summary>The 220 greeting text (<c>rules.banner</c>), default <c>{fqdn} ESMTP Slimta</c>.</summary>
    public string Banner { get; init; } = "{fqdn} ESMTP Slimta";

    /// <summary>Largest message in bytes (<c>max_size</c>), default 10485760.</summary>
    public int MaxSize { get; init; } = 10485760;

    /// <summary>Recipients per message (<c>max_recipients</c>), default 1000.</summary>
    public int MaxRecipients { get; init; } = 1000;

    /// <summary>Concurrent sessions (<c>max_connections</c>), default 1000; more are answered 421 4.7.0.</summary>
    public int MaxConnections { get; init; } = 1000;

    /// <summary>Protocol errors before the session is closed (<c>max_errors</c>), default 10.</summary>
    public int MaxErrors { get; init; } = 10;

    /// <summary>Wait for a command (<c>command_timeout</c>, seconds), default 300.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Wait for each chunk of DATA (<c>data_timeout</c>, seconds), default 300.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Which senders are accepted (<c>rules.only_senders</c>, <c>regex_senders</c>, <c>lookup_senders</c>).</summary>
    public AddressRules Senders { get; init; } = AddressRules.AllowAll;

    /// <summary>Which recipients are accepted (<c>rules.only_recipients</c>, <c>regex_recipients</c>, <c>lookup_recipients</c>).</summary>
    public AddressRules Recipients { get; init; } = AddressRules.AllowAll;

    /// <summary>DNSBL, SPF, spam and reverse DNS checks, and the resolver they use.</summary>
    public EdgeRuleSettings Checks { get; init; } = EdgeRuleSettings.None;

    /// <summary>The certificate files (<c>tls</c>); null means no STARTTLS and no implicit TLS.</summary>
    public Tls.TlsFileOptions? Tls { get; init; }

    /// <summary>Handshake TLS before the greeting (<c>tls_immediately</c>, port 465 style, RFC 8314).</summary>
    public bool TlsImmediately { get; init; }

    /// <summary>Every connection starts with a PROXY protocol v1 or v2 header (<c>proxyprotocol</c>).</summary>
    public bool ProxyProtocol { get; init; }

    /// <summary>AUTH users (<c>rules.lookup_credentials</c>); when set, MAIL requires AUTH.</summary>
    public Auth.ICredentialStore? Credentials { get; init; }

    /// <summary>AUTH is allowed without TLS (<c>rules.auth_plaintext</c>).</summary>
    public bool AuthPlaintext { get; init; }

    /// <summary>MAIL and AUTH require STARTTLS first (<c>rules.require_tls</c>).</summary>
    public bool RequireTls { get; init; }
}
