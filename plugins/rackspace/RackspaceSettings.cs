using System.Text.RegularExpressions;
using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The validated keys of one <c>rackspace</c> queue (documented in docs/configuration.md,
/// "rackspace queue"). Limits that Rackspace enforces (Cloud Queues claim ttl and grace 60–43200 s,
/// message ttl 60–1209600 s, queue names of 64 word characters) are checked here, so a value the
/// service would refuse is a startup error rather than a 400 at the first message.
/// </summary>
internal sealed partial record RackspaceSettings
{
    /// <summary>The Identity v2.0 endpoint used when neither <c>endpoint</c> nor <c>endoint</c> is given.</summary>
    public const string DefaultEndpoint = "https://identity.api.rackspacecloud.com/v2.0/";

    /// <summary>Every key a rackspace queue accepts besides the host's (type, relay, retry, …).</summary>
    public static readonly string[] Keys =
    [
        "type", "endpoint", "endoint", "username", "api_key", "password", "tenant_id", "region", "tls",
        "container_name", "queue_name", "timeout", "lease", "grace", "notice_ttl",
    ];

    /// <summary>Shortest and longest claim ttl and grace Cloud Queues accepts (seconds).</summary>
    public const int MinClaimSeconds = 60, MaxClaimSeconds = 43200;

    /// <summary>Shortest and longest message ttl Cloud Queues accepts (seconds).</summary>
    public const int MinMessageTtlSeconds = 60, MaxMessageTtlSeconds = 1209600;

    public required string Name { get; init; }
    public required Uri Endpoint { get; init; }
    public required string Username { get; init; }
    public string? ApiKey { get; init; }
    public string? Password { get; init; }
    public string? TenantId { get; init; }
    public string? Region { get; init; }
    public required RackspaceTlsSettings Tls { get; init; }
    public required string ContainerName { get; init; }
    public string? QueueName { get; init; }
    public required TimeSpan Timeout { get; init; }
    public required TimeSpan Lease { get; init; }
    public required TimeSpan Grace { get; init; }
    public required TimeSpan NoticeTtl { get; init; }

    /// <summary>For logs and exceptions: never the api key or password (a record's generated ToString prints every property).</summary>
    public override string ToString() =>
        $"rackspace queue {Name} (user {Username} at {Endpoint}, region {Region ?? "(default)"}, container {ContainerName}, queue {QueueName ?? "(none)"})";

    /// <summary>Checks every key and returns the settings; errors name the key path.</summary>
    public static RackspaceSettings Parse(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys(Keys);

        // The seed document spells the key "endoint"; both are accepted, but not together.
        if (options.Has("endpoint") && options.Has("endoint"))
        {
            throw options.Error("endoint", "give either endpoint or endoint (the old spelling), not both");
        }
        string endpointKey = options.Has("endoint") ? "endoint" : "endpoint";
        var endpointText = options.GetString(endpointKey) ?? DefaultEndpoint;
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw options.Error(endpointKey, $"'{endpointText}' is not an http:// or https:// URL");
        }

        var username = options.GetRequiredString("username");
        if (username.Length == 0)
        {
            throw options.Error("username", "must not be empty");
        }
        var apiKey = options.GetString("api_key");
        var password = options.GetString("password");
        if (apiKey is null && password is null)
        {
            throw options.Error("api_key", "either api_key or password is required");
        }
        if (apiKey is not null && password is not null)
        {
            throw options.Error("password", "give either api_key or password, not both");
        }
        if (apiKey is { Length: 0 })
        {
            throw options.Error("api_key", "must not be empty");
        }
        if (password is { Length: 0 })
        {
            throw options.Error("password", "must not be empty");
        }

        var container = options.GetRequiredString("container_name");
        // Swift: at most 256 bytes, no slash (it would name an object instead).
        if (container.Length == 0 || container.Contains('/', StringComparison.Ordinal) || System.Text.Encoding.UTF8.GetByteCount(container) > 256)
        {
            throw options.Error("container_name", "must be 1 to 256 bytes without '/'");
        }
        var queue = options.GetString("queue_name");
        if (queue is not null && !QueueNamePattern().IsMatch(queue))
        {
            throw options.Error("queue_name", "must be 1 to 64 letters, digits, '_' or '-' (Cloud Queues names)");
        }

        var timeout = options.GetSeconds("timeout", TimeSpan.FromSeconds(30));
        if (timeout <= TimeSpan.Zero)
        {
            throw options.Error("timeout", "must be more than 0 seconds");
        }
        var lease = Between(options, "lease", TimeSpan.FromSeconds(60), MinClaimSeconds, MaxClaimSeconds);
        var grace = Between(options, "grace", TimeSpan.FromSeconds(60), MinClaimSeconds, MaxClaimSeconds);
        var noticeTtl = Between(options, "notice_ttl", TimeSpan.FromSeconds(MaxMessageTtlSeconds), MinMessageTtlSeconds, MaxMessageTtlSeconds);
        foreach (var key in (string[])["region", "tenant_id"])
        {
            if (options.GetString(key) is { Length: 0 })
            {
                throw options.Error(key, "must not be empty (leave the key out instead)");
            }
        }

        return new RackspaceSettings
        {
            Name = options.Path,
            Endpoint = endpoint,
            Username = username,
            ApiKey = apiKey,
            Password = password,
            TenantId = options.GetString("tenant_id"),
            Region = options.GetString("region"),
            Tls = RackspaceTlsSettings.Parse(options.GetSection("tls")),
            ContainerName = container,
            QueueName = queue,
            Timeout = timeout,
            Lease = lease,
            Grace = grace,
            NoticeTtl = noticeTtl,
        };
    }

    private static TimeSpan Between(ComponentOptions options, string key, TimeSpan defaultValue, int min, int max)
    {
        var value = options.GetSeconds(key, defaultValue);
        if (value < TimeSpan.FromSeconds(min) || value > TimeSpan.FromSeconds(max))
        {
            throw options.Error(key, $"must be between {min} and {max} seconds (the range Cloud Queues accepts)");
        }
        return value;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex QueueNamePattern();
}
