using Slimta.Host.Configuration;
using Slimta.Host.Server;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>The shipped examples stay valid and in step with each other.</summary>
public sealed class ExampleConfigTests
{
    private static string Example(params string[] parts) => Path.Combine([TestPaths.RepoRoot, "examples", .. parts]);

    [Fact]
    public void Load_SlimtaConfAndSlimtaToml_BindToEqualTrees()
    {
        var yaml = ConfigLoader.LoadFile(Example("slimta.conf"));
        var toml = ConfigLoader.LoadFile(Example("slimta.toml"));
        Assert.Equal(yaml.Root, toml.Root);
        Assert.Equal(yaml.Queues.Keys, toml.Queues.Keys);
    }

    [Theory]
    [InlineData("slimta.conf")]
    [InlineData("slimta.toml")]
    [InlineData("custom-queue", "slimta.conf")]
    public async Task Build_ShippedExample_ValidatesWithTheBundledPlugins(params string[] path)
    {
        var config = ConfigLoader.LoadFile(Example(path));
        await using var server = SlimtaServer.Build(config, new SlimtaServerOptions { PluginDirectories = [TestPaths.PluginsDir] });
        Assert.NotEmpty(server.Queues);
        Assert.NotEmpty(server.Edges);
    }
}
