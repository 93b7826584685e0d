using System.Reflection;
using System.Runtime.Loader;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Plugins;
using Slimta.Testing;
using static Slimta.Host.Tests.Plugins.PluginTestHelpers;

namespace Slimta.Host.Tests.Plugins;

public sealed class PluginCatalogTests
{
    [Fact]
    public async Task LoadDirectory_TwoPluginsWithDifferentJsonVersions_EachDeliversWithItsOwnVersion()
    {
        using var catalog = new PluginCatalog();
        catalog.LoadDirectory(TestPaths.TestPluginsDir);

        var oldRelay = catalog.Registry.GetRelay("json_old", "relay.old.type").Create(Options("relay.old", ("type", "json_old")), Context());
        var newRelay = catalog.Registry.GetRelay("JSON_NEW", "relay.new.type").Create(Options("relay.new", ("type", "json_new")), Context());
        var oldReply = await DeliverAsync(oldRelay);
        var newReply = await DeliverAsync(newRelay);

        Assert.Equal("{\"version\":\"12.0.0.0\"}", oldReply.Text);
        Assert.Equal("{\"version\":\"13.0.0.0\"}", newReply.Text);
        var oldPlugin = catalog.FindLoaded(JsonOld)!;
        var newPlugin = catalog.FindLoaded(JsonNew)!;
        Assert.True(oldPlugin.IsRegistered && newPlugin.IsRegistered);
        Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(oldPlugin.Assembly));
        Assert.NotSame(AssemblyLoadContext.GetLoadContext(oldPlugin.Assembly), AssemblyLoadContext.GetLoadContext(newPlugin.Assembly));
    }

    [Fact]
    public void LoadDirectory_PluginShippingItsOwnContractCopies_StillGetsTheHostsAssemblies()
    {
        // A plugin folder that (wrongly) carries Slimta.Abstractions, the logging abstractions and
        // Slimta.Smtp next to it: the shared assemblies must still come from the host, or the
        // plugin's types would not be the host's IRelay / ILogger.
        var root = TestPaths.NewTempDir();
        var folder = Path.Combine(root, JsonOld);
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.TestPluginsDir, JsonOld)))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        string[] shared = ["Slimta.Abstractions", "Slimta.Smtp", "Microsoft.Extensions.Logging.Abstractions"];
        foreach (var name in shared)
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, name + ".dll"), Path.Combine(folder, name + ".dll"));
        }
        using var catalog = new PluginCatalog();

        catalog.LoadDirectory(root);

        var plugin = catalog.FindLoaded(JsonOld)!;
        Assert.True(plugin.IsRegistered);
        var context = AssemblyLoadContext.GetLoadContext(plugin.Assembly)!;
        foreach (var name in shared)
        {
            var assemblyName = new AssemblyName(name);
            Assert.Same(AssemblyLoadContext.Default.LoadFromAssemblyName(assemblyName), context.LoadFromAssemblyName(assemblyName));
        }
        Assert.IsAssignableFrom<IComponentFactory<IRelay>>(catalog.Registry.GetRelay("json_old", "relay.x.type"));
    }

    [Fact]
    public void LoadDirectory_PluginClaimsANameTheHostRegistered_FailsNamingBoth()
    {
        using var catalog = new PluginCatalog();
        catalog.RegisterBuiltIn(new RelayPlugin("Json_Old"), "Slimta.Host.Tests (built in)");

        var ex = Assert.Throws<ConfigException>(() => catalog.LoadDirectory(TestPaths.TestPluginsDir));

        Assert.Equal("plugins", ex.KeyPath);
        Assert.Contains("relay type 'json_old' is registered twice: by Slimta.Host.Tests (built in) and by Slimta.TestPlugins.JsonOld", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegisterBuiltIn_StorageAndQueueTypeWithOneName_FailsNamingBoth()
    {
        var registry = new PluginRegistry();
        registry.RegisterBuiltIn(new StoragePlugin("memory"), "First");

        var ex = Assert.Throws<ConfigException>(() => registry.RegisterBuiltIn(new QueueTypePlugin("MEMORY"), "Second"));

        Assert.Contains("'MEMORY' is registered twice: by First and by Second", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetRelay_UnknownType_ListsKnownNamesWithKeyPath()
    {
        using var catalog = new PluginCatalog();
        catalog.LoadDirectory(TestPaths.TestPluginsDir);
        var location = new SourceLocation("slimta.conf", 12);

        var ex = Assert.Throws<ConfigException>(() => catalog.Registry.GetRelay("jsn_old", "relay.out.type", location));

        Assert.Equal("relay.out.type: unknown relay type 'jsn_old'; known: custom, json_new, json_old (slimta.conf:12)", ex.Message);
    }

    [Fact]
    public void GetQueueType_UnknownType_ListsStoragesAndQueueTypes()
    {
        using var catalog = new PluginCatalog();
        catalog.RegisterBuiltIn(new StoragePlugin("memory"), "Test");

        var ex = Assert.Throws<ConfigException>(() => catalog.Registry.GetStorage(Options("queue.main", ("type", "memroy"))));

        Assert.Equal("queue.main.type", ex.KeyPath);
        Assert.Equal(7, ex.Location!.Line);
        Assert.Contains("unknown queue type 'memroy'; known: custom, memory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsStorage_DistinguishesStoragesFromQueueTypes()
    {
        using var catalog = new PluginCatalog();
        catalog.RegisterBuiltIn(new StoragePlugin("memory"), "Test");

        Assert.True(catalog.Registry.IsStorage("Memory"));
        Assert.False(catalog.Registry.IsStorage("custom"));
        Assert.True(catalog.Registry.IsQueueType("custom"));
        Assert.NotNull(catalog.Registry.GetQueueType("custom", "queue.x.type"));
    }

    [Fact]
    public void GetQueuePolicy_UnknownType_ListsKnownNames()
    {
        var registry = new PluginRegistry();

        var ex = Assert.Throws<ConfigException>(() => registry.GetQueuePolicy("add_messageid_header", "queue.main.policies.0.type"));

        Assert.Equal("queue.main.policies.0.type: unknown policy type 'add_messageid_header'; known: (none)", ex.Message);
    }

    [Fact]
    public void LoadDirectory_Missing_FailsNamingIt()
    {
        using var catalog = new PluginCatalog();
        var missing = Path.Combine(TestPaths.NewTempDir(), "nope");

        var ex = Assert.Throws<ConfigException>(() => catalog.LoadDirectory(missing));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadDirectory_RealPluginsDirectory_LoadsEveryPluginFolder()
    {
        using var catalog = new PluginCatalog();

        catalog.LoadDirectory(TestPaths.PluginsDir);

        Assert.Contains(catalog.Plugins, p => p.Name == "Slimta.Plugins.Memory");
        Assert.All(catalog.Plugins, p => Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(p.Assembly)));
    }

    private sealed class RelayPlugin(string type) : ISlimtaPlugin
    {
        public void Register(IPluginRegistry registry) => registry.AddRelay(type, new NullFactory<IRelay>());
    }

    private sealed class StoragePlugin(string type) : ISlimtaPlugin
    {
        public void Register(IPluginRegistry registry) => registry.AddStorage(type, new NullFactory<IQueueStorage>());
    }

    private sealed class QueueTypePlugin(string type) : ISlimtaPlugin
    {
        public void Register(IPluginRegistry registry) => registry.AddQueueType(type, new NullQueueTypeFactory());
    }

    private sealed class NullFactory<T> : IComponentFactory<T>
    {
        public void Validate(ComponentOptions options)
        {
        }

        public T Create(ComponentOptions options, ComponentContext context) => throw new InvalidOperationException("not used");
    }

    private sealed class NullQueueTypeFactory : IQueueTypeFactory
    {
        public void Validate(ComponentOptions options)
        {
        }

        public IQueue Create(ComponentOptions options, IRelay? relay, ComponentContext context) => throw new InvalidOperationException("not used");
    }
}
