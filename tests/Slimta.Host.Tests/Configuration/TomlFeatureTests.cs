using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Testing;
using static Slimta.Host.Tests.Configuration.ConfigTestHelpers;

namespace Slimta.Host.Tests.Configuration;

public sealed class TomlFeatureTests
{
    private const string MinimalToml = """
        [process.slimta]

        [queue.main]
        type = "memory"
        """;

    [Fact]
    public void Include_Files_MergeWithTheIncludingFileWinning()
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "relays.toml"), """
            [relay.out]
            type = "static"
            host = "included.example.com"
            port = 2525
            """);
        File.WriteAllText(Path.Combine(dir, "queues.toml"), """
            [queue.bounce]
            type = "memory"
            """);
        File.WriteAllText(Path.Combine(dir, "slimta.toml"), """
            include = ["relays.toml", "queues.toml"]

            [process.slimta]

            [queue.main]
            type = "memory"
            relay = "out"
            bounce_queue = "bounce"

            [relay.out]
            host = "main.example.com"
            """);

        var config = ConfigLoader.LoadFile(Path.Combine(dir, "slimta.toml"));

        var relay = config.Relays["out"].Options;
        Assert.Equal(("static", "main.example.com", 2525), (relay.Type, relay.GetString("host"), relay.GetInt32("port", 0)));
        Assert.Equal(new SourceLocation(Path.Combine(dir, "relays.toml"), 4), relay.Map["port"]!.Location);
        Assert.Equal(new SourceLocation(Path.Combine(dir, "slimta.toml"), 11), relay.Map["host"]!.Location);
        Assert.Equal("bounce", config.Queues["main"].BounceQueue);
        Assert.False(config.Root.ContainsKey("include"));
    }

    [Fact]
    public void Include_MissingFile_FailsWithKeyAndLine()
    {
        var dir = TestPaths.NewTempDir();

        var ex = ExpectError(() => LoadToml("include = [\"gone.toml\"]\n" + MinimalToml, dir), "include", 1);

        Assert.Contains("gone.toml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvReference_SetVariable_GivesItsValue()
    {
        var name = NewEnvName();
        Environment.SetEnvironmentVariable(name, "redis.internal");
        try
        {
            var config = LoadToml(MinimalToml + $"\nhost = \"${{env:{name}}}\"\nurl = \"redis://${{env:{name}}}:6379\"\n");

            var main = config.Queues["main"].Options;
            Assert.Equal("redis.internal", main.GetString("host"));
            Assert.Equal("redis://redis.internal:6379", main.GetString("url"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void EnvReference_MissingVariable_FailsNamingKeyPathAndLine()
    {
        var name = NewEnvName();

        var ex = ExpectError(() => LoadToml(MinimalToml + $"\npassword = \"${{env:{name}}}\"\n"), "queue.main.password", 5);

        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateKey_FailsWithLine()
    {
        var ex = Assert.Throws<ConfigException>(() => LoadToml(MinimalToml + "\ntype = \"disk\"\n"));

        Assert.Contains("invalid TOML", ex.Message, StringComparison.Ordinal);
        Assert.Equal(5, ex.Location!.Line);
    }

    [Fact]
    public void Values_NumbersBooleansDates_BecomeInvariantText()
    {
        var config = LoadToml(MinimalToml + "\nsize = 10485760\nratio = 0.25\nflag = true\nwhen = 2024-01-02T03:04:05Z\n");

        var main = config.Queues["main"].Options;
        Assert.Equal(("10485760", "0.25", "true"), (main.GetString("size"), main.GetString("ratio"), main.GetString("flag")));
        Assert.StartsWith("2024-01-02T03:04:05", main.GetString("when"), StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_MissingType_CarriesTomlLine()
    {
        ExpectError(() => LoadToml("[process.slimta]\n\n[queue.main]\nrelay_x = 1\n"), "queue.main", 3);
    }
}
