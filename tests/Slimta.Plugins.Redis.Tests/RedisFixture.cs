using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;
using Slimta.Testing;

namespace Slimta.Plugins.Redis.Tests;

/// <summary>One redis-server for the tests of a class; every storage gets its own prefix.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private ExternalServer? _server;

    /// <summary>The port redis-server listens on.</summary>
    public int Port => _server!.Port;

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A storage built through the plugin's factory, on a fresh prefix unless one is given.</summary>
    internal RedisStorage Create(TimeProvider time, string? prefix = null, double leaseSeconds = 60, int? port = null)
    {
        var registry = new RecordingRegistry();
        new RedisPlugin().Register(registry);
        var factory = registry.Storages["redis"];
        prefix ??= "t" + Guid.NewGuid().ToString("N")[..8] + ":";
        var options = new ComponentOptions(new ConfigMap("queue.q",
        [
            Entry("type", "redis"),
            Entry("host", "127.0.0.1"),
            Entry("port", (port ?? Port).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Entry("prefix", prefix),
            Entry("lease", leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ]), new HashSet<string>(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry" });
        factory.Validate(options);
        var context = new ComponentContext(time, NullLoggerFactory.Instance, "mx", "mx.example.com", Path.GetTempPath());
        return (RedisStorage)factory.Create(options, context);
    }

    private static KeyValuePair<string, ConfigNode> Entry(string key, string value) => new(key, new ConfigScalar("queue.q." + key, value));
}
