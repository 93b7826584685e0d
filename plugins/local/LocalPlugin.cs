using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Local;

[assembly: SlimtaPlugin(typeof(LocalPlugin))]

namespace Slimta.Plugins.Local;

/// <summary>
/// Entry point of the local delivery plugin: registers the relays <c>maildir</c> (one file per
/// recipient in a Maildir under a configured directory; a zero-setup local delivery target) and
/// <c>blackhole</c> (accepts and discards, for tests and benchmarks).
/// </summary>
public sealed class LocalPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddRelay("maildir", new MaildirRelayFactory());
        registry.AddRelay("blackhole", new BlackholeRelayFactory());
    }
}
