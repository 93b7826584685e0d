using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Testing;
using static Slimta.Host.Tests.Configuration.ConfigTestHelpers;

namespace Slimta.Host.Tests.Configuration;

public sealed class YamlFeatureTests
{
    [Fact]
    public void Include_RelativeFile_ReplacesTheNodeWithPathsAndLinesOfItsOwn()
    {
        var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(dir, "conf.d"));
        File.WriteAllText(Path.Combine(dir, "conf.d", "relays.yaml"), """
            outbound:
              type: static
              host: smtp.example.com
            """);
        File.WriteAllText(Path.Combine(dir, "slimta.conf"), SampleConfigs.MinimalYaml + "\nrelay: !include conf.d/relays.yaml\n");

        var config = ConfigLoader.LoadFile(Path.Combine(dir, "slimta.conf"));

        var relay = config.Relays["outbound"];
        Assert.Equal("static", relay.Type);
        var host = relay.Options.Map["host"]!;
        Assert.Equal("relay.outbound.host", host.Path);
        Assert.Equal(new SourceLocation(Path.Combine(dir, "conf.d", "relays.yaml"), 3), host.Location);
    }

    [Fact]
    public void Include_NestedRelativeToIncludingFile_Resolves()
    {
        var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(dir, "a"));
        File.WriteAllText(Path.Combine(dir, "a", "queue.yaml"), "main:\n  type: memory\n  retry: !include retry.yaml\n");
        File.WriteAllText(Path.Combine(dir, "a", "retry.yaml"), "maximum: 3\n");
        File.WriteAllText(Path.Combine(dir, "slimta.yaml"), "process: {slimta: {}}\nqueue: !include a/queue.yaml\n");

        var config = ConfigLoader.LoadFile(Path.Combine(dir, "slimta.yaml"));

        Assert.Equal(3, config.Queues["main"].Retry!.Maximum);
    }

    [Fact]
    public void Include_MissingFile_FailsWithKeyPathAndLine()
    {
        var dir = TestPaths.NewTempDir();

        var ex = ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nrelay: !include nowhere.yaml\n", dir), "relay", 6);

        Assert.Contains(Path.Combine(dir, "nowhere.yaml"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Include_Cycle_FailsNamingTheChain()
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "a.yaml"), "x: !include b.yaml\n");
        File.WriteAllText(Path.Combine(dir, "b.yaml"), "y: !include a.yaml\n");
        File.WriteAllText(Path.Combine(dir, "slimta.yaml"), SampleConfigs.MinimalYaml + "\nextra: !include a.yaml\n");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(Path.Combine(dir, "slimta.yaml")));

        Assert.Contains("include cycle", ex.Message, StringComparison.Ordinal);
        Assert.Equal("extra.x.y", ex.KeyPath);
    }

    [Fact]
    public void Env_SetVariable_GivesItsValue()
    {
        var name = NewEnvName();
        Environment.SetEnvironmentVariable(name, "s3cret");
        try
        {
            var config = LoadYaml(SampleConfigs.MinimalYaml + $"\nrelay:\n  out:\n    type: static\n    password: !env {name}\n");

            Assert.Equal("s3cret", config.Relays["out"].Options.GetString("password"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void Env_MissingVariable_FailsNamingKeyPathAndVariable()
    {
        var name = NewEnvName();

        var ex = ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + $"\nrelay:\n  out:\n    type: static\n    password: !env {name}\n"), "relay.out.password", 9);

        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MergeKey_AnchorInUnknownTopLevelKey_MergesWithExplicitKeysWinning()
    {
        var config = LoadYaml("""
            rules:
              defaults: &defaults
                type: static
                port: 25
                host: default.example.com
            process: {slimta: {}}
            queue:
              main: {type: memory, relay: out}
            relay:
              out:
                <<: *defaults
                host: smtp.example.com
            """);

        var relay = config.Relays["out"].Options;
        Assert.Equal("static", relay.Type);
        Assert.Equal("smtp.example.com", relay.GetString("host"));
        Assert.Equal(25, relay.GetInt32("port", 0));
        Assert.Equal("relay.out.port", relay.Map["port"]!.Path);
    }

    [Fact]
    public void MergeKey_ListOfAliases_EarlierWins()
    {
        var config = LoadYaml("""
            a: &a {type: static, port: 1}
            b: &b {port: 2, host: b.example}
            process: {slimta: {}}
            queue: {main: {type: memory}}
            relay:
              out:
                <<: [*a, *b]
            """);

        var relay = config.Relays["out"].Options;
        Assert.Equal(("1", "b.example"), (relay.GetString("port"), relay.GetString("host")));
    }

    [Fact]
    public void Alias_UnknownAnchor_FailsWithLine()
    {
        var ex = Assert.Throws<ConfigException>(() => LoadYaml(SampleConfigs.MinimalYaml + "\nrelay: *nothing\n"));

        Assert.Contains("*nothing", ex.Message, StringComparison.Ordinal);
        Assert.Equal(6, ex.Location!.Line);
    }

    [Fact]
    public void DuplicateKey_FailsWithKeyPathAndLineOfTheSecond()
    {
        var ex = ExpectError(() => LoadYaml("""
            process: {slimta: {}}
            queue:
              main:
                type: memory
                type: disk
            """), "queue.main.type", 5);

        Assert.Contains("given twice (first on line 4)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scalars_NullAndBooleans_FollowTheCoreSchema()
    {
        var config = LoadYaml("""
            process:
              slimta:
                daemon: True
                user: ~
                group: "null"
            queue: {main: {type: memory}}
            """);

        var process = config.Processes["slimta"];
        Assert.True(process.Daemon);
        Assert.Null(process.User);
        Assert.Equal("null", process.Group);
        Assert.Equal("true", ((ConfigScalar)process.Options.Map["daemon"]!).Value);
    }

    [Fact]
    public void UnknownTag_FailsNamingIt()
    {
        var ex = ExpectError(() => LoadYaml(SampleConfigs.MinimalYaml + "\nrelay: !secret x\n"), "relay", 6);

        Assert.Contains("!secret", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Syntax_BadIndentation_FailsWithLine()
    {
        var ex = Assert.Throws<ConfigException>(() => LoadYaml("process:\n  slimta: {}\n queue: [\n"));

        Assert.Contains("invalid YAML", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Location!.Line >= 2);
    }

    [Fact]
    public void Include_TomlFileFromYaml_IsReadAsToml()
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "relays.toml"), "[out]\ntype = \"static\"\nport = 25\n");
        File.WriteAllText(Path.Combine(dir, "slimta.yaml"), SampleConfigs.MinimalYaml + "\nrelay: !include relays.toml\n");

        var config = ConfigLoader.LoadFile(Path.Combine(dir, "slimta.yaml"));

        var port = config.Relays["out"].Options.Map["port"]!;
        Assert.Equal(("relay.out.port", "25"), (port.Path, ((ConfigScalar)port).Value));
        Assert.Equal(new SourceLocation(Path.Combine(dir, "relays.toml"), 3), port.Location);
    }

    [Fact]
    public void LoadFile_Missing_FailsNamingTheFile()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "slimta.conf");

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }
}
