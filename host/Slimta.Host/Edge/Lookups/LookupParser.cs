using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Edge.Lookups;

/// <summary>Reads the lookup types that need a server or a file: <c>redis</c> and <c>sqlite3</c>. Nothing is opened here.</summary>
public static class LookupParser
{
    /// <summary>A <c>{type: redis, key_template, host, port, db, password, timeout}</c> lookup.</summary>
    public static RedisAddressLookup ParseRedis(ComponentOptions lookup)
    {
        lookup.RequireKnownKeys("type", "key_template", "host", "port", "db", "password", "timeout");
        var host = lookup.GetString("host") ?? "127.0.0.1";
        if (host.Length == 0)
        {
            throw lookup.Error("host", "must not be empty");
        }
        var timeout = lookup.GetSeconds("timeout", TimeSpan.FromSeconds(5));
        if (timeout <= TimeSpan.Zero)
        {
            throw lookup.Error("timeout", "must be more than 0 seconds");
        }
        return new RedisAddressLookup(new RedisLookupSettings(
            KeyTemplate(lookup),
            host,
            lookup.GetInt32("port", 6379, 1, 65535),
            lookup.GetInt32("db", 0, 0, 1_000_000),
            lookup.GetString("password"),
            timeout));
    }

    /// <summary>A <c>{type: sqlite3, database, query}</c> lookup; the edge resolves a relative database path against the configuration's directory.</summary>
    public static SqliteAddressLookup ParseSqlite(ComponentOptions lookup)
    {
        lookup.RequireKnownKeys("type", "database", "query");
        var database = lookup.GetRequiredString("database");
        var query = lookup.GetRequiredString("query");
        if (!query.TrimStart().StartsWith("select", StringComparison.OrdinalIgnoreCase) && !query.TrimStart().StartsWith("with", StringComparison.OrdinalIgnoreCase))
        {
            throw lookup.Error("query", "must be a SELECT");
        }
        if (!(query.Contains(":address", StringComparison.OrdinalIgnoreCase) || query.Contains("@address", StringComparison.OrdinalIgnoreCase) || query.Contains("$address", StringComparison.OrdinalIgnoreCase)
            || query.Contains("localpart", StringComparison.OrdinalIgnoreCase) || query.Contains("domain", StringComparison.OrdinalIgnoreCase)))
        {
            throw lookup.Error("query", "must use the parameter :address (or :localpart, :domain); the address is never pasted into the SQL text");
        }
        return new SqliteAddressLookup(database, query);
    }

    private static string KeyTemplate(ComponentOptions lookup)
    {
        var template = lookup.GetString("key_template") ?? "{address}";
        if (template.Length == 0)
        {
            throw lookup.Error("key_template", "must not be empty");
        }
        return template;
    }
}
