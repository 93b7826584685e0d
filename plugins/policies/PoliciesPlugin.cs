using Slimta.Abstractions.Plugins;
using Slimta.Plugins.Policies;

[assembly: SlimtaPlugin(typeof(PoliciesPlugin))]

namespace Slimta.Plugins.Policies;

/// <summary>
/// Entry point of the policies plugin: registers the queue policies <c>add_date_header</c>,
/// <c>add_message_id_header</c> (and its old spelling <c>add_messageid_header</c>),
/// <c>add_received_header</c>, <c>recipient_split</c>, <c>recipient_domain_split</c>, <c>forward</c>
/// and <c>spamassassin</c>, and the relay-time policy <c>add_header</c>.
/// </summary>
public sealed class PoliciesPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddQueuePolicy("add_date_header", new NoOptionsPolicyFactory(c => new AddDateHeaderPolicy(c.Time)));
        var messageId = new NoOptionsPolicyFactory(c => new AddMessageIdHeaderPolicy(c.Fqdn));
        registry.AddQueuePolicy("add_message_id_header", messageId);
        // The spelling python-slimta used; accepted so that old configs keep working.
        registry.AddQueuePolicy("add_messageid_header", messageId);
        registry.AddQueuePolicy("add_received_header", new NoOptionsPolicyFactory(c => new AddReceivedHeaderPolicy(c.Fqdn, c.Time)));
        registry.AddQueuePolicy("recipient_split", new NoOptionsPolicyFactory(_ => new RecipientSplitPolicy()));
        registry.AddQueuePolicy("recipient_domain_split", new NoOptionsPolicyFactory(_ => new RecipientDomainSplitPolicy()));
        registry.AddQueuePolicy("forward", new ForwardPolicyFactory());
        registry.AddQueuePolicy("spamassassin", new SpamAssassinPolicyFactory());
        registry.AddRelayPolicy("add_header", new AddHeaderRelayPolicyFactory());
    }
}
