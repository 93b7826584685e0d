using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Proxy;

/// <summary>
/// Builds <see cref="ProxyQueue"/>. The proxy has no keys of its own. It needs a relay, and the
/// host keys <c>retry</c>, <c>policies</c> and <c>bounce_queue</c> are refused rather than
/// ignored: a proxy never retries, runs no policies and never bounces (config.md, "proxy"), so a
/// user who configures them would otherwise believe in behaviour that does not happen.
/// </summary>
internal sealed class ProxyQueueFactory : IQueueTypeFactory
{
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type");
        if (options.Has("retry"))
        {
            throw options.Error("retry", "a proxy queue delivers while the client waits and never retries; remove this key");
        }
        if (options.Has("policies") && options.GetSectionList("policies").Count > 0)
        {
            throw options.Error("policies", "a proxy queue does not run queue policies; remove this key or use a storage queue");
        }
        if (options.Has("bounce_queue"))
        {
            throw options.Error("bounce_queue", "a proxy queue never bounces (the client gets the failure reply); remove this key");
        }
        if (string.IsNullOrEmpty(options.GetString("relay")))
        {
            throw options.Error(options.Has("relay") ? "relay" : null, "a proxy queue needs a relay: set 'relay' to the name of a relay");
        }
    }

    public IQueue Create(ComponentOptions options, IRelay? relay, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (relay is null)
        {
            throw new ConfigException(options.PathOf("relay"), "a proxy queue needs a relay: set 'relay' to the name of a relay", options.Map.Location);
        }
        return new ProxyQueue(relay, context.Loggers);
    }
}
