using System.Globalization;
using Slimta.Abstractions.Configuration;
using Slimta.Plugins.Smtp.MtaSts;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The validated options of a <c>static</c>, <c>lmtp</c> or <c>mx</c> relay. Parsing has no side
/// effects, so the factory's Validate and Create share it; every problem names its key path.
/// </summary>
internal sealed class SmtpRelaySettings
{
    /// <summary>Keys every SMTP relay type allows (the host adds <c>type</c>).</summary>
    private static readonly string[] CommonKeys =
    [
        "port", "ehlo_as", "connect_timeout", "command_timeout", "data_timeout", "idle_timeout",
        "concurrent_connections", "tls", "eight_bit", "connect_retries", "circuit_breaker",
        "chain_messages",
    ];

    private static readonly string[] SingleHostKeys = ["host", "credentials"];

    private static readonly string[] MxKeys = ["ipv4_only", "force_mx", "dns", "mta_sts"];

    public required RelayKind Kind { get; init; }
    public string Host { get; init; } = string.Empty;
    public required int Port { get; init; }
    public required string? EhloAs { get; init; }
    public required TimeSpan ConnectTimeout { get; init; }
    public required TimeSpan CommandTimeout { get; init; }
    public required TimeSpan DataTimeout { get; init; }
    public required TimeSpan IdleTimeout { get; init; }
    public required int ConcurrentConnections { get; init; }

    /// <summary>
    /// Send a waiting message's MAIL, RCPT and DATA right behind another message's final dot on
    /// a busy session (RFC 2920 §3.1) instead of waiting for a session of its own; SMTP next hops
    /// that offer PIPELINING only.
    /// </summary>
    public bool ChainMessages { get; init; } = true;
    public required TlsSettings Tls { get; init; }
    public required EightBitMode EightBit { get; init; }
    public required int ConnectRetries { get; init; }
    public required CircuitBreakerSettings CircuitBreaker { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public bool Ipv4Only { get; init; }
    public IReadOnlyDictionary<string, (string Host, int? Port)> ForceMx { get; init; } = new Dictionary<string, (string, int?)>();
    public DnsSettings Dns { get; init; } = new();
    public MtaStsSettings MtaSts { get; init; } = MtaStsSettings.Disabled;

    public bool Lmtp => Kind == RelayKind.Lmtp;

    /// <summary>Reads and checks the options.</summary>
    public static SmtpRelaySettings Parse(ComponentOptions options, RelayKind kind)
    {
        options.RequireKnownKeys([.. CommonKeys, .. kind == RelayKind.Mx ? MxKeys : SingleHostKeys]);
        string host = string.Empty;
        string? username = null, password = null;
        if (kind != RelayKind.Mx)
        {
            host = kind == RelayKind.Lmtp ? options.GetString("host") ?? "localhost" : options.GetRequiredString("host");
            if (host.Length == 0 || host.AsSpan().IndexOfAny(" \t\r\n") >= 0)
            {
                throw options.Error("host", "must be a host name or an IP address");
            }
            if (options.GetSection("credentials") is { } credentials)
            {
                credentials.RequireKnownKeys("username", "password");
                username = credentials.GetRequiredString("username");
                // An empty password is allowed (some smart hosts use the user name as a token).
                password = credentials.GetString("password") ?? throw credentials.Error(null, "the key 'password' is required");
            }
        }
        var ehloAs = options.GetString("ehlo_as");
        if (ehloAs is not null && (ehloAs.Length == 0 || ehloAs.AsSpan().IndexOfAny(" \t\r\n") >= 0))
        {
            throw options.Error("ehlo_as", "must be a host name without white space");
        }
        var eightBit = options.GetString("eight_bit")?.ToLowerInvariant() switch
        {
            null or "convert" => EightBitMode.Convert,
            "refuse" => EightBitMode.Refuse,
            _ => throw options.Error("eight_bit", "must be 'convert' or 'refuse'"),
        };

        return new SmtpRelaySettings
        {
            Kind = kind,
            Host = host,
            Port = options.GetInt32("port", kind == RelayKind.Lmtp ? 24 : 25, 1, 65535),
            EhloAs = ehloAs,
            ConnectTimeout = Positive(options, "connect_timeout", 30),
            CommandTimeout = Positive(options, "command_timeout", 30),
            DataTimeout = Positive(options, "data_timeout", 60),
            IdleTimeout = options.GetSeconds("idle_timeout", TimeSpan.FromSeconds(10)),
            ConcurrentConnections = options.GetInt32("concurrent_connections", 5, 1, 10_000),
            ChainMessages = options.GetBoolean("chain_messages", true),
            Tls = TlsSettings.Parse(options.GetSection("tls")),
            EightBit = eightBit,
            // mx falls through to the next MX instead of retrying the same host.
            ConnectRetries = options.GetInt32("connect_retries", kind == RelayKind.Mx ? 0 : 1, 0, 10),
            CircuitBreaker = CircuitBreakerSettings.Parse(options.GetSection("circuit_breaker")),
            Username = username,
            Password = password,
            Ipv4Only = kind == RelayKind.Mx && options.GetBoolean("ipv4_only", false),
            ForceMx = kind == RelayKind.Mx ? ParseForceMx(options) : new Dictionary<string, (string, int?)>(),
            Dns = kind == RelayKind.Mx ? DnsSettings.Parse(options.GetSection("dns")) : new DnsSettings(),
            MtaSts = kind == RelayKind.Mx ? MtaStsSettings.Parse(options) : MtaStsSettings.Disabled,
        };
    }

    private static Dictionary<string, (string Host, int? Port)> ParseForceMx(ComponentOptions options)
    {
        var result = new Dictionary<string, (string, int?)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (domain, value) in options.GetStringMap("force_mx"))
        {
            var path = ConfigNode.Combine(options.PathOf("force_mx"), domain);
            if (!TryParseHostPort(value, out var host, out var port))
            {
                throw new ConfigException(path, $"'{value}' is not host or host:port", options.Map.Location);
            }
            result[domain.TrimEnd('.')] = (host, port);
        }
        return result;
    }

    /// <summary>Parses <c>host</c>, <c>host:port</c>, <c>[v6]</c> or <c>[v6]:port</c>.</summary>
    internal static bool TryParseHostPort(string text, out string host, out int? port)
    {
        host = text.Trim();
        port = null;
        string? portText = null;
        if (host.StartsWith('['))
        {
            int close = host.IndexOf(']');
            if (close < 0)
            {
                return false;
            }
            portText = host.Length > close + 1 ? (host[close + 1] == ':' ? host[(close + 2)..] : null) : string.Empty;
            if (portText is null)
            {
                return false;
            }
            host = host[1..close];
            portText = portText.Length == 0 ? null : portText;
        }
        else if (host.Count(c => c == ':') == 1)
        {
            int colon = host.IndexOf(':');
            portText = host[(colon + 1)..];
            host = host[..colon];
        }
        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                return false;
            }
            port = p;
        }
        return host.Length > 0 && host.AsSpan().IndexOfAny(" \t\r\n/") < 0;
    }

    private static TimeSpan Positive(ComponentOptions options, string key, double defaultSeconds)
    {
        var value = options.GetSeconds(key, TimeSpan.FromSeconds(defaultSeconds));
        if (value <= TimeSpan.Zero)
        {
            throw options.Error(key, "must be more than 0 seconds");
        }
        return value;
    }
}
