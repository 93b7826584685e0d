namespace Slimta.Testing;

/// <summary>redis-server on 127.0.0.1 and an ephemeral port, nothing persisted.</summary>
public static class RedisServer
{
    /// <summary>Starts redis-server and waits until it listens.</summary>
    public static Task<ExternalServer> StartAsync(string? password = null)
    {
        var exe = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        return ExternalServer.StartAsync(exe, "redis-server", port =>
        {
            var args = new List<string> { "--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no" };
            if (password is not null)
            {
                args.AddRange(["--requirepass", password]);
            }
            return args;
        }, TimeSpan.FromSeconds(20));
    }
}
