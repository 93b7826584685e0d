using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The validated options of a <c>static</c> or <c>lmtp</c> relay. Parsing has no side effects,
/// so the factory's Validate and Create share it; every problem names its key path.
/// </summary>
internal sealed class SmtpRelaySettings
{
    /// <summary>Keys allowed at the top of the relay's section (the host adds <c>type</c>).</summary>
    public static readonly string[] Keys =
    [
        "host", "port", "ehlo_as", "connect_timeout", "command_timeout", "data_timeout",
        "idle_timeout", "concurrent_connections", "tls", "credentials",
    ];

    public required string Host { get; init; }
    public required int Port { get; init; }
    public required string? EhloAs { get; init; }
    public required TimeSpan ConnectTimeout { get; init; }
    public required TimeSpan CommandTimeout { get; init; }
    public required TimeSpan DataTimeout { get; init; }
    public required TimeSpan IdleTimeout { get; init; }
    public required int ConcurrentConnections { get; init; }
    public required TlsSettings Tls { get; init; }
    public required string? Username { get; init; }
    public required string? Password { get; init; }
    public required bool Lmtp { get; init; }

    /// <summary>Reads and checks the options.</summary>
    /// <param name="options">The relay's section.</param>
    /// <param name="lmtp">True for the <c>lmtp</c> type (defaults: localhost, port 24).</param>
    public static SmtpRelaySettings Parse(ComponentOptions options, bool lmtp)
    {
        options.RequireKnownKeys(Keys);
        var host = lmtp ? options.GetString("host") ?? "localhost" : options.GetRequiredString("host");
        if (host.Length == 0 || host.AsSpan().IndexOfAny(" \t\r\n") >= 0)
        {
            throw options.Error("host", "must be a host name or an IP address");
        }
        var ehloAs = options.GetString("ehlo_as");
        if (ehloAs is not null && (ehloAs.Length == 0 || ehloAs.AsSpan().IndexOfAny(" \t\r\n") >= 0))
        {
            throw options.Error("ehlo_as", "must be a host name without white space");
        }

        string? username = null, password = null;
        if (options.GetSection("credentials") is { } credentials)
        {
            credentials.RequireKnownKeys("username", "password");
            username = credentials.GetRequiredString("username");
            // An empty password is allowed (some smart hosts use the user name as a token).
            password = credentials.GetString("password") ?? throw credentials.Error(null, "the key 'password' is required");
        }

        return new SmtpRelaySettings
        {
            Host = host,
            Port = options.GetInt32("port", lmtp ? 24 : 25, 1, 65535),
            EhloAs = ehloAs,
            ConnectTimeout = Positive(options, "connect_timeout", 30),
            CommandTimeout = Positive(options, "command_timeout", 30),
            DataTimeout = Positive(options, "data_timeout", 60),
            IdleTimeout = options.GetSeconds("idle_timeout", TimeSpan.FromSeconds(10)),
            ConcurrentConnections = options.GetInt32("concurrent_connections", 5, 1, 10_000),
            Tls = TlsSettings.Parse(options.GetSection("tls")),
            Username = username,
            Password = password,
            Lmtp = lmtp,
        };
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
