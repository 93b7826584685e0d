using Slimta.Abstractions.Plugins;
using Slimta.Plugins.MailAuth;
using Slimta.Plugins.MailAuth.Dkim;
using Slimta.Plugins.MailAuth.Verify;

[assembly: SlimtaPlugin(typeof(MailAuthPlugin))]

namespace Slimta.Plugins.MailAuth;

/// <summary>
/// Entry point of the mail-authentication plugin: the relay-time policy <c>dkim_sign</c>
/// (RFC 6376 signatures, RSA-SHA256 and Ed25519-SHA256 of RFC 8463) and the queue policy
/// <c>verify_auth</c> (SPF, DKIM and DMARC checks reported in one RFC 8601
/// <c>Authentication-Results</c> header).
/// </summary>
public sealed class MailAuthPlugin : ISlimtaPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddRelayPolicy("dkim_sign", new DkimSignPolicyFactory());
        registry.AddQueuePolicy("verify_auth", new VerifyAuthPolicyFactory());
    }
}
