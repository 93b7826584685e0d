using System.Runtime.Loader;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Plugins;
using Slimta.Testing;
using static Slimta.Host.Tests.Plugins.PluginTestHelpers;

namespace Slimta.Host.Tests.Plugins;

public sealed class CustomFactoryLoaderTests
{
    private const string Factories = JsonOld + ":Slimta_TestPlugins_JsonOld.Factories";

    [Fact]
    public async Task CustomRelay_GoodFactory_CreatesARelayInThePluginsOwnContext()
    {
        using var catalog = Catalog();
        var options = Options("relay.mine", ("type", "custom"), ("factory", Factories + ".Relay"), ("greeting", "hi"));
        var factory = catalog.Registry.GetRelay(options);

        factory.Validate(options);
        var relay = factory.Create(options, Context());
        var reply = await DeliverAsync(relay);

        Assert.Equal("{\"version\":\"12.0.0.0\",\"note\":\"hi\"}", reply.Text);
        Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(relay.GetType().Assembly));
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name == JsonOld);
    }

    [Fact]
    public async Task CustomRelay_FactoryWithContext_ReceivesTheContext()
    {
        using var catalog = Catalog();
        var options = Options("relay.mine", ("type", "custom"), ("factory", Factories + ".RelayWithContext"));

        var relay = catalog.CustomFactories.CreateRelay(options, Context());

        Assert.Contains("\"note\":\"mail\"", (await DeliverAsync(relay)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomQueue_GoodFactory_GetsTheRelay()
    {
        using var catalog = Catalog();
        var relay = catalog.CustomFactories.CreateRelay(Options("relay.mine", ("factory", Factories + ".Relay")), Context());
        var options = Options("queue.custom", ("type", "custom"), ("factory", Factories + ".Queue"));
        var factory = catalog.Registry.GetQueueType(options);

        factory.Validate(options);
        var queue = factory.Create(options, relay, Context());
        var results = await queue.EnqueueAsync(Envelope(), CancellationToken.None);

        var result = Assert.Single(results);
        Assert.True(result.IsAccepted);
        Assert.Contains("12.0.0.0", result.Reply!.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomEdge_GoodFactory_GetsTheQueue()
    {
        using var catalog = Catalog();
        var queue = catalog.CustomFactories.CreateQueue(Options("queue.q", ("factory", Factories + ".Queue")), null, Context());
        var options = Options("edge.mine", ("type", "custom"), ("factory", Factories + ".Edge"));
        var factory = catalog.Registry.GetEdge(options);

        factory.Validate(options);
        await using var edge = factory.Create(options, queue, Context());

        Assert.Same(queue, edge.GetType().GetProperty("Queue")!.GetValue(edge));
    }

    [Fact]
    public async Task CustomRelay_AssemblyGivenAsPath_LoadsItThroughThePluginLoader()
    {
        using var catalog = new PluginCatalog(TestPaths.TestPluginsDir);
        var options = Options("relay.mine", ("factory", $"{JsonOld}/{JsonOld}.dll:Slimta_TestPlugins_JsonOld.Factories.Relay"));

        var relay = catalog.CustomFactories.CreateRelay(options, Context());

        Assert.Contains("12.0.0.0", (await DeliverAsync(relay)).Text, StringComparison.Ordinal);
        Assert.True(catalog.FindLoaded(JsonOld)!.IsRegistered);
    }

    [Fact]
    public void Resolve_AssemblyNotFound_ListsWhereItLooked()
    {
        using var catalog = Catalog();

        var ex = Fail(catalog, "queue.custom", "No.Such.Assembly:A.B.Create", CustomFactoryKind.Queue);

        Assert.Contains("assembly 'No.Such.Assembly' not found; looked in: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(Path.GetFullPath(TestPaths.TestPluginsDir), "No.Such.Assembly", "No.Such.Assembly.dll"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AssemblyPathNotFound_NamesThePath()
    {
        using var catalog = new PluginCatalog("/srv/slimta");

        var ex = Fail(catalog, "relay.mine", "lib/Mine.dll:A.B.Create", CustomFactoryKind.Relay);

        Assert.Contains("assembly not found: /srv/slimta/lib/Mine.dll", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_TypeNotFound_SaysSo()
    {
        using var catalog = Catalog();

        var ex = Fail(catalog, "queue.custom", JsonOld + ":Slimta_TestPlugins_JsonOld.Nope.Create", CustomFactoryKind.Queue);

        Assert.Contains($"type 'Slimta_TestPlugins_JsonOld.Nope' not found in assembly {JsonOld}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MethodMissing_ShowsTheExpectedSignature()
    {
        using var catalog = Catalog();

        var ex = Fail(catalog, "queue.custom", Factories + ".Make", CustomFactoryKind.Queue);

        Assert.Contains("has no public static method 'Make'; expected: public static IQueue Make(ComponentOptions options, IRelay? relay)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_WrongParameter_ShowsFoundAndExpectedSignatures()
    {
        using var catalog = Catalog();

        var ex = Fail(catalog, "relay.mine", Factories + ".WrongSignature", CustomFactoryKind.Relay);

        Assert.Contains("has the wrong signature: IRelay WrongSignature(String options); expected: public static IRelay WrongSignature(ComponentOptions options)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_WrongReturnType_IsAWrongSignature()
    {
        using var catalog = Catalog();

        var ex = Fail(catalog, "relay.mine", Factories + ".WrongReturn", CustomFactoryKind.Relay);

        Assert.Contains("wrong signature: String WrongReturn(ComponentOptions options)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_RelayFactoryUsedForAQueue_IsAWrongSignature()
    {
        using var catalog = Catalog();

        var ex = Fail(catalog, "queue.custom", Factories + ".Relay", CustomFactoryKind.Queue);

        Assert.Contains("expected: public static IQueue Relay(ComponentOptions options, IRelay? relay)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NotAssemblyColonMethod_ExplainsTheForm()
    {
        using var catalog = Catalog();

        var ex = Fail(catalog, "queue.custom", "Slimta_TestPlugins_JsonOld.Factories.Queue", CustomFactoryKind.Queue);

        Assert.Contains("is not of the form Assembly:Namespace.Type.Method", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FactoryThrows_WrapsTheException()
    {
        using var catalog = Catalog();
        var options = Options("relay.mine", ("factory", Factories + ".Throws"));

        var ex = Assert.Throws<ConfigException>(() => catalog.CustomFactories.CreateRelay(options, Context()));

        Assert.Equal("relay.mine.factory", ex.KeyPath);
        Assert.Contains("the factory Slimta_TestPlugins_JsonOld.Factories.Throws threw InvalidOperationException: the fixture factory failed on purpose", ex.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
    }

    [Fact]
    public void Create_FactoryReturnsNull_Fails()
    {
        using var catalog = Catalog();
        var options = Options("relay.mine", ("factory", Factories + ".ReturnsNull"));

        var ex = Assert.Throws<ConfigException>(() => catalog.CustomFactories.CreateRelay(options, Context()));

        Assert.Contains("returned null", ex.Message, StringComparison.Ordinal);
    }

    private static PluginCatalog Catalog()
    {
        var catalog = new PluginCatalog();
        catalog.LoadDirectory(TestPaths.TestPluginsDir);
        return catalog;
    }

    private static ConfigException Fail(PluginCatalog catalog, string path, string factory, CustomFactoryKind kind)
    {
        var options = Options(path, ("type", "custom"), ("factory", factory));
        var ex = Assert.Throws<ConfigException>(() => catalog.CustomFactories.Resolve(options, kind));
        Assert.Equal(path + ".factory", ex.KeyPath);
        Assert.Equal(new SourceLocation("test.yaml", 7), ex.Location);
        return ex;
    }
}
