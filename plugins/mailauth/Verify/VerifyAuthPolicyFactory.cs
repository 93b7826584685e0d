using Microsoft.Extensions.Logging;
using MimeKit.Cryptography;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Smtp.Dns;
using Slimta.Smtp.Spf;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>Builds <see cref="VerifyAuthPolicy"/>; see <see cref="VerifyAuthSettings"/>.</summary>
internal sealed class VerifyAuthPolicyFactory : IComponentFactory<IQueuePolicy>
{
    public void Validate(ComponentOptions options) => VerifyAuthSettings.Parse(options);

    public IQueuePolicy Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = VerifyAuthSettings.Parse(options);
        // RFC 8601 §2.5: the authserv-id names this host; the FQDN unless configured.
        var authservId = settings.AuthservId ?? context.Fqdn;
        var dns = new DnsClientResolver(settings.Dns, context.Time);
        var keys = new DnsDkimKeyLocator(dns);
        var verifier = new DkimVerifier(keys);
        // RFC 8301 §3.1: rsa-sha1 signatures must not be considered valid (MimeKit's default too).
        verifier.Disable(DkimSignatureAlgorithm.RsaSha1);
        var dmarc = new DmarcEvaluator(dns, new OrganizationalDomain(settings.PublicSuffixes), Random.Shared.Next);
        return new VerifyAuthPolicy(settings, authservId, new SpfEvaluator(dns, authservId), verifier, keys, dmarc, context.Loggers.CreateLogger<VerifyAuthPolicy>());
    }
}
