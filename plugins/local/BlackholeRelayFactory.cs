using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Local;

/// <summary>Builds <see cref="BlackholeRelay"/>; the <c>blackhole</c> relay has no keys.</summary>
internal sealed class BlackholeRelayFactory : IComponentFactory<IRelay>
{
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type");
    }

    public IRelay Create(ComponentOptions options, ComponentContext context)
    {
        Validate(options);
        return new BlackholeRelay();
    }
}
