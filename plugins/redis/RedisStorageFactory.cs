using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Redis;

/// <summary>
/// Builds <see cref="RedisStorage"/>. Creating it does not require Redis to be up: the connection
/// is retried in the background (a worker may start before Redis does), and every call made while
/// Redis is down fails so the edge answers 451.
/// </summary>
internal sealed class RedisStorageFactory : IComponentFactory<IQueueStorage>
{
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", "host", "port", "db", "password", "prefix", "lease");
        if (options.Has("host") && string.IsNullOrEmpty(options.GetString("host")))
        {
            throw options.Error("host", "must not be empty (leave the key out for localhost)");
        }
        options.GetInt32("port", 6379, 1, 65535);
        options.GetInt32("db", 0, 0, 65535);
        if (options.GetSeconds("lease", RedisStorage.DefaultLease) < TimeSpan.FromSeconds(1))
        {
            throw options.Error("lease", "must be at least 1 second");
        }
    }

    public IQueueStorage Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        Validate(options);
        var settings = new RedisStorageSettings(
            options.Path,
            options.GetString("host") ?? "localhost",
            options.GetInt32("port", 6379, 1, 65535),
            options.GetInt32("db", 0, 0, 65535),
            options.GetString("password"),
            options.GetString("prefix") ?? "slimta:",
            options.GetSeconds("lease", RedisStorage.DefaultLease));
        return RedisStorage.Connect(settings, context.Time, context.Loggers.CreateLogger("slimta.queue.redis"));
    }
}
