using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Plugins;
using Slimta.Testing;

namespace Slimta.Host.Tests.Plugins;

public sealed class ComponentValidatorTests
{
    private const string Config = """
        process: {slimta: {}}
        queue:
          main:
            type: custom
            factory: "Slimta.TestPlugins.JsonOld:Slimta_TestPlugins_JsonOld.Factories.Queue"
            relay: out
        relay:
          out:
            type: json_old
        edge:
          in:
            type: custom
            queue: main
            factory: "Slimta.TestPlugins.JsonOld:Slimta_TestPlugins_JsonOld.Factories.Edge"
        """;

    [Fact]
    public void ValidateAll_EveryTypeKnownAndValid_Passes()
    {
        using var catalog = Catalog();
        var config = ConfigLoader.LoadText(Config, "yaml", "slimta.conf", TestPaths.TestPluginsDir);

        ComponentValidator.ValidateAll(config, catalog.Registry);

        Assert.Equal("custom", config.Queues["main"].Type);
    }

    [Fact]
    public void ValidateAll_UnknownKeyInAPluginComponent_FailsWithKeyPathAndLine()
    {
        using var catalog = Catalog();
        var yaml = Config.Replace("type: json_old", "type: json_old\n    timeout: 5", StringComparison.Ordinal);
        var config = ConfigLoader.LoadText(yaml, "yaml", "slimta.conf", TestPaths.TestPluginsDir);

        var ex = Assert.Throws<ConfigException>(() => ComponentValidator.ValidateAll(config, catalog.Registry));

        Assert.Equal("relay.out.timeout", ex.KeyPath);
        Assert.Equal(10, ex.Location!.Line);
    }

    [Fact]
    public void ValidateAll_UnknownRelayType_ListsKnownTypesWithLine()
    {
        using var catalog = Catalog();
        var config = ConfigLoader.LoadText(Config.Replace("type: json_old", "type: json_olde", StringComparison.Ordinal), "yaml", "slimta.conf", TestPaths.TestPluginsDir);

        var ex = Assert.Throws<ConfigException>(() => ComponentValidator.ValidateAll(config, catalog.Registry));

        Assert.Equal("relay.out.type: unknown relay type 'json_olde'; known: custom, json_new, json_old (slimta.conf:9)", ex.Message);
    }

    [Fact]
    public void ValidateAll_CustomFactoryWithWrongSignature_FailsBeforeCreating()
    {
        using var catalog = Catalog();
        var config = ConfigLoader.LoadText(Config.Replace("Factories.Queue", "Factories.Relay", StringComparison.Ordinal), "yaml", "slimta.conf", TestPaths.TestPluginsDir);

        var ex = Assert.Throws<ConfigException>(() => ComponentValidator.ValidateAll(config, catalog.Registry));

        Assert.Equal("queue.main.factory", ex.KeyPath);
        Assert.Equal(5, ex.Location!.Line);
    }

    private static PluginCatalog Catalog()
    {
        var catalog = new PluginCatalog();
        catalog.LoadDirectory(TestPaths.TestPluginsDir);
        return catalog;
    }
}
