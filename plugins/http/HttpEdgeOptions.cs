using System.Net;

namespace Slimta.Plugins.Http;

/// <summary>The options of an <c>http</c> edge, validated (see <see cref="HttpEdgeOptionsParser"/>).</summary>
public sealed record HttpEdgeOptions
{
    /// <summary>The address to listen on (<c>listener.interface</c>, default 127.0.0.1).</summary>
    public required IPAddress Address { get; init; }

    /// <summary>The port (<c>listener.port</c>); HttpListener needs a fixed one.</summary>
    public required int Port { get; init; }

    /// <summary>Largest message body in bytes (<c>max_size</c>, default 10485760); larger → 413.</summary>
    public int MaxSize { get; init; } = 10485760;

    /// <summary>Requests handled at once (<c>max_connections</c>, default 100); more wait for a slot.</summary>
    public int MaxConnections { get; init; } = 100;

    /// <summary>Time allowed to read a request body (<c>data_timeout</c>, default 300 s).</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Basic auth user (<c>credentials.username</c>); null: no authentication.</summary>
    public string? Username { get; init; }

    /// <summary>Basic auth password (<c>credentials.password</c>). Never logged.</summary>
    public string? Password { get; init; }

    /// <summary>The HttpListener prefix for <see cref="Address"/> and <see cref="Port"/>.</summary>
    public string Prefix
    {
        get
        {
            var host = Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any) ? "*"
                : Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]"
                : Address.ToString();
            return $"http://{host}:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}/";
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"http edge on {Prefix}{(Username is null ? string.Empty : " with basic auth")}";
}
