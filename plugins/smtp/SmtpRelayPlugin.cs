using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Smtp;

[assembly: SlimtaPlugin(typeof(SmtpRelayPlugin))]

namespace Slimta.Plugins.Smtp;

/// <summary>Registers the SMTP client relays: <c>static</c> (one smart host), <c>lmtp</c> and <c>mx</c> (each recipient domain's mail exchangers).</summary>
public sealed class SmtpRelayPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddRelay("static", new SmtpRelayFactory(lmtp: false));
        registry.AddRelay("lmtp", new SmtpRelayFactory(lmtp: true));
        registry.AddRelay("mx", SmtpRelayFactory.ForMx());
    }
}
