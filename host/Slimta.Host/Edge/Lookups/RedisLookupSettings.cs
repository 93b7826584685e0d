namespace Slimta.Host.Edge.Lookups;

/// <summary><c>{type: redis, key_template, host, port, db, password, timeout}</c>.</summary>
/// <param name="KeyTemplate">The key to look for (default <c>{address}</c>).</param>
/// <param name="Host">Redis host (default 127.0.0.1).</param>
/// <param name="Port">Redis port (default 6379).</param>
/// <param name="Database">Database number (default 0).</param>
/// <param name="Password">Password, or null. Never logged.</param>
/// <param name="Timeout">Connect and command timeout (default 5 s).</param>
public sealed record RedisLookupSettings(string KeyTemplate, string Host, int Port, int Database, string? Password, TimeSpan Timeout)
{
    /// <inheritdoc />
    public override string ToString() => $"redis {Host}:{Port} db {Database} key {KeyTemplate}";
}
