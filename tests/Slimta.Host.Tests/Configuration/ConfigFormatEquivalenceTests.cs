using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Testing;
using static Slimta.Host.Tests.Configuration.ConfigTestHelpers;

namespace Slimta.Host.Tests.Configuration;

public sealed class ConfigFormatEquivalenceTests
{
    [Fact]
    public void LoadText_YamlAndTomlOfOneConfig_BindEqualTreesAndModels()
    {
        var yaml = LoadYaml(SampleConfigs.Yaml, "/srv/slimta");
        var toml = LoadToml(SampleConfigs.Toml, "/srv/slimta");

        Assert.Equal(yaml.Root, toml.Root);
        Assert.Equal(yaml.Processes["slimta"], toml.Processes["slimta"]);
        Assert.Equal(yaml.Edges["inbound"], toml.Edges["inbound"]);
        Assert.Equal(yaml.Queues["outbound"], toml.Queues["outbound"]);
        Assert.Equal(yaml.Queues["bounces"], toml.Queues["bounces"]);
        Assert.Equal(yaml.Relays["outbound"], toml.Relays["outbound"]);
        Assert.Equal(yaml.Relays["local"], toml.Relays["local"]);
        Assert.Equal(yaml.PluginDirectories, toml.PluginDirectories);
        Assert.Equal(yaml with { File = toml.File }, toml);
    }

    [Fact]
    public void LoadText_FullYaml_BindsEveryTypedPart()
    {
        var config = LoadYaml(SampleConfigs.Yaml, "/srv/slimta");

        var process = config.GetProcess("slimta");
        Assert.Equal(new LoggingConfig("debug", "json", null), process.Logging);
        Assert.Equal(("mail", "mail.example.com", "/run/slimta.pid", false), (process.Hostname, process.Fqdn, process.PidFile, process.Daemon));

        var edge = config.Edges["inbound"];
        Assert.Equal(("smtp", "outbound", null), (edge.Type, edge.Queue, edge.Factory));
        Assert.Equal("cert.pem", edge.Options.GetSection("tls")!.GetString("certfile"));
        edge.Options.RequireKnownKeys("listener", "max_size", "tls", "rules");

        var queue = config.Queues["outbound"];
        Assert.Equal(("memory", "outbound", "bounces"), (queue.Type, queue.Relay, queue.BounceQueue));
        Assert.Equal(["add_date_header", "forward"], queue.Policies.Select(p => p.Type));
        Assert.Equal("queue.outbound.policies.1", queue.Policies[1].Path);
        Assert.Equal(@"\1@example.com", queue.Policies[1].GetStringMap("mapping").Single().Value);
        Assert.Equal(new RetryConfig("min(60*pow(2, x), 3600)", 5, "queue.outbound.retry"), queue.Retry);
        queue.Options.RequireKnownKeys();
        Assert.Equal(new RetryConfig("300*x", null, "queue.bounces.retry"), config.Queues["bounces"].Retry);

        Assert.Equal(2.5, config.Relays["outbound"].Options.GetDouble("connect_timeout", 0));
        Assert.Equal(["/srv/slimta/plugins"], config.PluginDirectories);
    }

    [Fact]
    public void LoadText_Yaml_GivesEveryNodeItsPathAndLine()
    {
        var config = LoadYaml(SampleConfigs.Yaml);

        var retry = config.Queues["outbound"].Retry!;
        var node = config.Root["queue"] is ConfigMap q && q["outbound"] is ConfigMap o && o["retry"] is ConfigMap r ? r["maximum"] : null;
        Assert.NotNull(node);
        Assert.Equal("queue.outbound.retry.maximum", node!.Path);
        Assert.Equal(new SourceLocation("test.yaml", 43), node.Location);
        Assert.Equal("queue.outbound.retry", retry.Path);
    }

    [Fact]
    public void LoadText_Toml_GivesKeysTheirLine()
    {
        var config = LoadToml(SampleConfigs.Toml);

        var relay = config.Relays["outbound"].Options;
        Assert.Equal(new SourceLocation("test.toml", 48), relay.Map["port"]!.Location);
        Assert.Equal("relay.outbound.port", relay.Map["port"]!.Path);
    }

    [Fact]
    public void LoadFile_ByExtension_ReadsYamlAndToml()
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "slimta.conf"), SampleConfigs.Yaml);
        File.WriteAllText(Path.Combine(dir, "slimta.toml"), SampleConfigs.Toml);
        File.WriteAllText(Path.Combine(dir, "other.txt"), SampleConfigs.Toml);

        var yaml = ConfigLoader.LoadFile(Path.Combine(dir, "slimta.conf"));
        var toml = ConfigLoader.LoadFile(Path.Combine(dir, "slimta.toml"));
        var explicitFormat = ConfigLoader.LoadFile(Path.Combine(dir, "other.txt"), "toml");

        Assert.Equal(yaml.Root, toml.Root);
        Assert.Equal(toml.Root, explicitFormat.Root);
        Assert.Equal(Path.Combine(dir, "slimta.toml"), toml.File);
        Assert.Equal(dir, toml.Directory);
        Assert.Equal([Path.Combine(dir, "plugins")], toml.PluginDirectories);
    }

    [Fact]
    public void LoadFile_UnknownExtensionWithoutFormat_FailsNamingTheFormats()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "slimta.txt");
        File.WriteAllText(path, SampleConfigs.Yaml);

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path));

        Assert.Contains("yaml or toml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFile_YamlContentWithTomlFormat_IsNotSniffedAndFailsWithALine()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "slimta.conf");
        File.WriteAllText(path, SampleConfigs.Yaml);

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFile(path, "toml"));

        Assert.Contains("invalid TOML", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Location!.Line > 0);
    }

    [Fact]
    public void FindDefault_SlimtaConfInCurrentDirectory_WinsOverHome()
    {
        var cwd = TestPaths.NewTempDir();
        var home = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(home, ".slimta"));
        File.WriteAllText(Path.Combine(home, ".slimta", "slimta.conf"), SampleConfigs.MinimalYaml);

        var fromHome = ConfigLoader.FindDefault(cwd, home);
        File.WriteAllText(Path.Combine(cwd, "slimta.conf"), SampleConfigs.MinimalYaml);
        var fromCwd = ConfigLoader.FindDefault(cwd, home);

        Assert.Equal(Path.Combine(home, ".slimta", "slimta.conf"), fromHome);
        Assert.Equal(Path.Combine(cwd, "slimta.conf"), fromCwd);
        Assert.Equal("/etc/slimta/slimta.conf", ConfigLoader.DefaultSearchPaths[^1]);
    }
}
