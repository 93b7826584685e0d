using System.Net;
using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Http;

/// <summary>Reads and validates <see cref="HttpEdgeOptions"/> without side effects.</summary>
public static class HttpEdgeOptionsParser
{
    /// <summary>The largest <c>max_size</c>: a message is held in memory while it is received.</summary>
    public const int MaxSizeLimit = 1024 * 1024 * 1024;

    /// <summary>Validates <paramref name="options"/> and returns the typed options.</summary>
    public static HttpEdgeOptions Parse(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("listener", "max_size", "max_connections", "data_timeout", "credentials");
        var listener = options.GetSection("listener") ?? throw options.Error(null, "the key 'listener' ({interface, port}) is required");
        listener.RequireKnownKeys("interface", "port");
        if (!listener.Has("port"))
        {
            throw listener.Error(null, "the key 'port' is required");
        }
        // HttpListener cannot bind port 0 and report the port it got.
        int port = listener.GetInt32("port", 0, 1, 65535);
        var text = listener.GetString("interface") ?? "127.0.0.1";
        IPAddress address = text switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "0.0.0.0" => IPAddress.Any,
            _ when IPAddress.TryParse(text.Trim('[', ']'), out var parsed) => parsed,
            _ => throw listener.Error("interface", $"'{text}' is not an IP address (or 'localhost', '*')"),
        };
        string? username = null, password = null;
        var credentials = options.GetSection("credentials");
        if (credentials is not null)
        {
            credentials.RequireKnownKeys("username", "password");
            username = credentials.GetRequiredString("username");
            password = credentials.GetRequiredString("password");
            if (username.Contains(':', StringComparison.Ordinal))
            {
                // RFC 7617 §2: the user-id of Basic auth cannot contain a colon.
                throw credentials.Error("username", "must not contain ':'");
            }
        }
        var timeout = options.GetSeconds("data_timeout", TimeSpan.FromMinutes(5));
        if (timeout <= TimeSpan.Zero)
        {
            throw options.Error("data_timeout", "must be more than 0 seconds");
        }
        return new HttpEdgeOptions
        {
            Address = address,
            Port = port,
            MaxSize = options.GetInt32("max_size", 10485760, 1, MaxSizeLimit),
            MaxConnections = options.GetInt32("max_connections", 100, 1, 100_000),
            DataTimeout = timeout,
            Username = username,
            Password = password,
        };
    }
}
