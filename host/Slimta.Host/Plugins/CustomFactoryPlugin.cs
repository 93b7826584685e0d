using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Plugins;

/// <summary>
/// Registers the <c>custom</c> queue type, relay and edge, backed by <see cref="CustomFactoryLoader"/>,
/// so the host treats them like any other type (look up, Validate, Create) and an unknown-type
/// error lists <c>custom</c> among the known names.
/// </summary>
internal sealed class CustomFactoryPlugin : ISlimtaPlugin
{
    public const string TypeName = "custom";

    private readonly CustomFactoryLoader _loader;

    public CustomFactoryPlugin(CustomFactoryLoader loader) => _loader = loader;

    public void Register(IPluginRegistry registry)
    {
        registry.AddQueueType(TypeName, new QueueFactory(_loader));
        registry.AddRelay(TypeName, new RelayFactory(_loader));
        registry.AddEdge(TypeName, new EdgeFactory(_loader));
    }

    // The three adapters only forward to the loader; they are kept here because they mean
    // nothing on their own.
    private sealed class QueueFactory(CustomFactoryLoader loader) : IQueueTypeFactory
    {
        public void Validate(ComponentOptions options) => loader.Resolve(options, CustomFactoryKind.Queue);

        public IQueue Create(ComponentOptions options, IRelay? relay, ComponentContext context) => loader.CreateQueue(options, relay, context);
    }

    private sealed class RelayFactory(CustomFactoryLoader loader) : IComponentFactory<IRelay>
    {
        public void Validate(ComponentOptions options) => loader.Resolve(options, CustomFactoryKind.Relay);

        public IRelay Create(ComponentOptions options, ComponentContext context) => loader.CreateRelay(options, context);
    }

    private sealed class EdgeFactory(CustomFactoryLoader loader) : IEdgeFactory
    {
        public void Validate(ComponentOptions options) => loader.Resolve(options, CustomFactoryKind.Edge);

        public IEdge Create(ComponentOptions options, IQueue queue, ComponentContext context) => loader.CreateEdge(options, queue, context);
    }
}
