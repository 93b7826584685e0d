using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Local;

[assembly: SlimtaPlugin(typeof(LocalPlugin))]

namespace Slimta.Plugins.Local;

/// <summary>
/// Entry point of the local delivery plugin: registers the relays <c>maildir</c> (one file per
/// recipient in a Maildir under a configured directory; a zero-setup local delivery target) and
/// <c>blackhole</c> (accepts and discards, for tests and benchmarks), and the command relays
/// <c>pipe</c>, <c>maildrop</c> and <c>dovecot</c> (dovecot-lda), which run a program with the
/// message on standard input.
/// </summary>
public sealed class LocalPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddRelay("maildir", new MaildirRelayFactory());
        registry.AddRelay("blackhole", new BlackholeRelayFactory());
        registry.AddRelay("pipe", new CommandRelayFactory("pipe"));
        registry.AddRelay("maildrop", new CommandRelayFactory("maildrop"));
        registry.AddRelay("dovecot", new CommandRelayFactory("dovecot"));
    }
}
