using Microsoft.Data.Sqlite;
using Slimta.Testing;
using StackExchange.Redis;

namespace Slimta.Host.Tests.Edge;

public class EdgeLookupTests
{
    private static Dictionary<string, object?> Lookup(string key, Dictionary<string, object?> lookup) =>
        new() { ["rules"] = new Dictionary<string, object?> { [key] = lookup } };

    private static async Task<(string Rcpt1, string Rcpt2)> RcptTwiceAsync(EdgeFixture edge, string first, string second)
    {
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync($"EHLO c.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<{first}>\r\nRCPT TO:<{second}>\r\n");
        await client.ExpectAsync("250");
        await client.ExpectAsync("250 2.1.0");
        return ((await client.ReadReplyAsync())!, (await client.ReadReplyAsync())!);
    }

    [Fact]
    public async Task Rcpt_RedisLookup_AllowsOnlyExistingKeys()
    {
        await using var redis = await RedisServer.StartAsync("s3cret");
        await using (var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port},password=s3cret"))
        {
            await connection.GetDatabase(2).StringSetAsync("rcpt:known@example.test", "{}");
        }
        await using var edge = await EdgeFixture.StartAsync(Lookup("lookup_recipients", new()
        {
            ["type"] = "redis", ["host"] = "127.0.0.1", ["port"] = redis.Port, ["db"] = 2, ["password"] = "s3cret", ["key_template"] = "rcpt:{address}",
        }));
        var (known, unknown) = await RcptTwiceAsync(edge, "known@example.test", "other@example.test");
        Assert.StartsWith("250 2.1.5", known);
        Assert.StartsWith("550 5.7.1", unknown);
        Assert.DoesNotContain(edge.Logs.Lines, l => l.Contains("s3cret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Mail_RedisDown_Gets451()
    {
        int port = FreePort.Next();
        await using var edge = await EdgeFixture.StartAsync(Lookup("lookup_senders", new()
        {
            ["type"] = "redis", ["port"] = port, ["timeout"] = 1, ["password"] = "hidden-pw",
        }));
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO c.test\r\nMAIL FROM:<a@client.test>\r\n");
        await client.ExpectAsync("250");
        await client.ExpectAsync("451 4.3.0");
        Assert.DoesNotContain(edge.Logs.Lines, l => l.Contains("hidden-pw", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rcpt_SqliteLookup_UsesParameters()
    {
        var dir = TestPaths.NewTempDir("edge-sqlite");
        var database = Path.Combine(dir, "users.db");
        await using (var connection = new SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE users (localpart TEXT, domain TEXT); INSERT INTO users VALUES ('known', 'example.test');";
            await command.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();
        await using var edge = await EdgeFixture.StartAsync(Lookup("lookup_recipients", new()
        {
            ["type"] = "sqlite3", ["database"] = database, ["query"] = "SELECT 1 FROM users WHERE localpart = :localpart AND domain = :domain",
        }));
        var (known, injected) = await RcptTwiceAsync(edge, "known@example.test", "\"x' OR '1'='1\"@example.test");
        Assert.StartsWith("250 2.1.5", known);
        Assert.StartsWith("550 5.7.1", injected);
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Rcpt_SqliteDatabaseMissing_Gets451()
    {
        await using var edge = await EdgeFixture.StartAsync(Lookup("lookup_recipients", new()
        {
            ["type"] = "sqlite3", ["database"] = "/nonexistent/users.db", ["query"] = "SELECT 1 FROM users WHERE address = :address",
        }));
        var (first, _) = await RcptTwiceAsync(edge, "a@example.test", "b@example.test");
        Assert.StartsWith("451 4.3.0", first);
    }
}
