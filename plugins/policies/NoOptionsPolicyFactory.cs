using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>A factory for a policy that has no keys besides <c>type</c>: any other key is an error.</summary>
internal sealed class NoOptionsPolicyFactory(Func<ComponentContext, IQueuePolicy> create) : IComponentFactory<IQueuePolicy>
{
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type");
    }

    public IQueuePolicy Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Validate(options);
        return create(context);
    }
}
