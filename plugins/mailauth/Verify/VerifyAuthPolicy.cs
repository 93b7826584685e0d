using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Cryptography;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Plugins.MailAuth.Dkim;
using Slimta.Smtp.Spf;

namespace Slimta.Plugins.MailAuth.Verify;

/// <summary>
/// <c>verify_auth</c> (a queue policy): checks SPF (RFC 7208, the client address against MAIL FROM,
/// or the HELO name for the null sender), every DKIM-Signature (RFC 6376, MimeKit's verifier with
/// keys from DNS) and DMARC (RFC 7489), and prepends one <c>Authentication-Results</c> header
/// (RFC 8601) with the results under <c>authserv_id</c>. Headers of that name which claim the same
/// authserv-id are removed first (§5): nobody outside may speak for this host. Optionally a
/// DMARC failure under <c>p=reject</c> / <c>p=quarantine</c> refuses the message (550 5.7.1) or
/// adds the quarantine header. Mail from authenticated clients (SMTP AUTH) is reported
/// (<c>auth=pass</c>) but never refused or quarantined: it is this host's own users' mail; nor are
/// messages made on this host (bounces, <see cref="ClientInfo.Local"/>).
/// </summary>
internal sealed class VerifyAuthPolicy(
    VerifyAuthSettings settings,
    string authservId,
    SpfEvaluator spf,
    DkimVerifier dkim,
    DnsDkimKeyLocator keys,
    DmarcEvaluator dmarc,
    ILogger log) : IQueuePolicy
{
    public async ValueTask<IReadOnlyList<Envelope>?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var raw = envelope.Message;
        MimeMessage? message;
        using (var stream = Open(raw.Bytes))
        {
            try
            {
                message = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            catch (FormatException)
            {
                // No header section MimeKit can read (an empty message, a first line that is not a
                // field): nothing to verify a signature or a From domain on, but the results are
                // still reported (dkim=none, dmarc=permerror) rather than the message refused.
                message = null;
            }
        }
        var results = new List<string>();
        if (envelope.Client.AuthenticatedUser is { } user)
        {
            results.Add("auth=pass smtp.auth=" + AuthenticationResults.Value(user));
        }

        var (spfResult, spfDomain, spfProperty) = await CheckSpfAsync(envelope, cancellationToken).ConfigureAwait(false);
        results.Add($"spf={Name(spfResult)} {spfProperty}");

        var dkimChecks = await CheckDkimAsync(message, cancellationToken).ConfigureAwait(false);
        foreach (var check in dkimChecks)
        {
            results.Add(FormatDkim(check));
        }
        if (dkimChecks.Count == 0)
        {
            results.Add("dkim=none");
        }

        var (fromDomain, fromProblem) = FromDomain(message);
        var dmarcResult = await dmarc.EvaluateAsync(
            fromDomain, fromProblem,
            dkimChecks.Where(c => c.Result == "pass" && c.Domain is not null).Select(c => c.Domain!).ToList(),
            spfResult == SpfResult.Pass ? spfDomain : null,
            cancellationToken).ConfigureAwait(false);
        results.Add(FormatDmarc(dmarcResult));

        // §5: remove what claims to come from us, then add ours on top.
        var forged = HeaderFields.Read(raw)
            .Where(f => f.Name.Equals(AuthenticationResults.HeaderName, StringComparison.OrdinalIgnoreCase)
                && string.Equals(AuthenticationResults.AuthservIdOf(f.Value), authservId, StringComparison.OrdinalIgnoreCase))
            .ToList();
        raw = HeaderFields.Remove(raw, forged);
        var header = AuthenticationResults.Format(authservId, results);
        raw = raw.PrependHeader(AuthenticationResults.HeaderName, header);

        // Authenticated clients are this host's users, and LOCAL messages (bounces) are made here:
        // neither is refused or quarantined for DMARC.
        bool exempt = envelope.Client.AuthenticatedUser is not null || IsLocal(envelope.Client);
        if (dmarcResult.Result == "fail" && !exempt)
        {
            var action = dmarcResult.Disposition switch
            {
                "reject" => settings.OnReject,
                "quarantine" => settings.OnQuarantine,
                _ => DmarcAction.None,
            };
            if (action == DmarcAction.Reject)
            {
                log.LogInformation("id={Id} refused: DMARC fail, policy reject for {Domain}", envelope.Id, dmarcResult.FromDomain);
                // RFC 7489 §10.3: a 5xy rejection with 5.7.1 and text that names DMARC.
                throw new QueuePolicyRejectedException(new Reply(550, "5.7.1", $"Email rejected per DMARC policy for {dmarcResult.FromDomain}"));
            }
            if (action == DmarcAction.Quarantine)
            {
                log.LogInformation("id={Id} quarantined: DMARC fail, policy {Policy} for {Domain}", envelope.Id, dmarcResult.Disposition, dmarcResult.FromDomain);
                raw = raw.RemoveHeader(settings.QuarantineHeaderName).PrependHeader(settings.QuarantineHeaderName, settings.QuarantineHeaderValue);
            }
        }
        envelope.Message = raw;
        return null;
    }

    private async Task<(SpfResult Result, string? Domain, string Property)> CheckSpfAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        var helo = envelope.Client.EhloName;
        bool useHelo = envelope.IsNullSender;
        string? domain = useHelo ? helo : Envelope.DomainOf(envelope.Sender);
        var property = useHelo
            ? "smtp.helo=" + AuthenticationResults.Value(helo ?? string.Empty)
            : "smtp.mailfrom=" + AuthenticationResults.Value(envelope.Sender);
        if (envelope.Client.Address is not { } address || IsLocal(envelope.Client) || string.IsNullOrEmpty(domain))
        {
            // A message made on this host (a bounce, a local submission) has no client to check.
            return (SpfResult.None, null, property);
        }
        var result = await spf.CheckSenderAsync(address, envelope.Sender, helo, cancellationToken).ConfigureAwait(false);
        return (result, domain, property);
    }

    private async Task<List<DkimCheck>> CheckDkimAsync(MimeMessage? message, CancellationToken cancellationToken)
    {
        var checks = new List<DkimCheck>();
        if (message is null)
        {
            return checks;
        }
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature).Take(settings.MaxSignatures))
        {
            var value = header.Value;
            var d = DkimSignPolicy.Tag(value, "d");
            var s = DkimSignPolicy.Tag(value, "s");
            var b = DkimSignPolicy.Tag(value, "b");
            var shortB = b is null ? null : b[..Math.Min(8, b.Length)];
            try
            {
                bool ok = await dkim.VerifyAsync(message, header, cancellationToken).ConfigureAwait(false);
                var i = DkimSignPolicy.Tag(value, "i");
                var iDomain = i is null ? null : i[(i.LastIndexOf('@') + 1)..].TrimEnd('.');
                if (ok && d is not null && s is not null && iDomain is not null
                    && !iDomain.Equals(d.TrimEnd('.'), StringComparison.OrdinalIgnoreCase) && keys.IsStrict(d, s))
                {
                    // RFC 6376 §3.6.1 t=s: the key may not sign for subdomains of d= (§6.1.1: PERMFAIL).
                    checks.Add(new DkimCheck("permerror", d, s, shortB, "i= is a subdomain of d= and the key has t=s"));
                    continue;
                }
                checks.Add(new DkimCheck(ok ? "pass" : "fail", d, s, shortB, ok ? null : "signature verification failed"));
            }
            catch (DkimKeyException e)
            {
                checks.Add(new DkimCheck(e.Temporary ? "temperror" : "permerror", d, s, shortB, e.Message));
            }
            catch (Exception e) when (e is FormatException or MimeKit.ParseException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                // A malformed signature, an unsupported or disabled algorithm (rsa-sha1, RFC 8301).
                checks.Add(new DkimCheck(d is null || s is null ? "permerror" : "neutral", d, s, shortB, e.Message));
            }
            catch (Exception e) when (e is Org.BouncyCastle.Security.GeneralSecurityException or Org.BouncyCastle.Crypto.CryptoException or InvalidCastException or IOException)
            {
                // The key does not fit the signature (a k=ed25519 record for an rsa-sha256
                // signature, a truncated key): anyone can publish such a record for their own
                // domain, so it is that signature's permerror (RFC 6376 §6.1.2), never the message's.
                checks.Add(new DkimCheck("permerror", d, s, shortB, "unusable key: " + e.Message));
            }
        }
        return checks;
    }

    /// <summary>The one RFC5322.From domain, or null with why not (RFC 7489 §6.6.1).</summary>
    private static (string? Domain, string? Problem) FromDomain(MimeMessage? message)
    {
        if (message is null)
        {
            return (null, "no header section");
        }
        var fromHeaders = message.Headers.Count(h => h.Id == HeaderId.From);
        if (fromHeaders != 1)
        {
            return (null, fromHeaders == 0 ? "no From header" : "several From headers");
        }
        var domains = message.From.Mailboxes.Select(m => DkimSignSettings.NormalizeDomain(m.Domain)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (domains.Count != 1 || domains[0] is null)
        {
            return (null, domains.Count > 1 ? "several From domains" : "no usable From domain");
        }
        return (domains[0], null);
    }

    /// <summary>A message made on this host (<see cref="ClientInfo.Local"/>: bounces, local submissions).</summary>
    private static bool IsLocal(ClientInfo client) => client.Protocol == ClientInfo.Local.Protocol;

    private static string Name(SpfResult result) => result.ToString().ToLowerInvariant();

    private static string FormatDkim(DkimCheck check)
    {
        var text = "dkim=" + check.Result;
        if (check.Reason is not null && check.Result != "pass")
        {
            text += " " + AuthenticationResults.Comment(check.Reason);
        }
        if (check.Domain is not null)
        {
            text += " header.d=" + AuthenticationResults.Value(check.Domain);
        }
        if (check.Selector is not null)
        {
            text += " header.s=" + AuthenticationResults.Value(check.Selector);
        }
        if (check.Signature is not null)
        {
            text += " header.b=" + AuthenticationResults.Value(check.Signature);
        }
        return text;
    }

    private static string FormatDmarc(DmarcResult result)
    {
        var text = "dmarc=" + result.Result;
        if (result.Record is { } record)
        {
            // As OpenDMARC writes it: the record's policies and the disposition for this message.
            var sp = record.SubdomainPolicy is null ? string.Empty : " sp=" + record.SubdomainPolicy;
            text += $" (p={record.Policy}{sp} dis={result.Disposition})";
        }
        else if (result.Reason is not null)
        {
            text += " " + AuthenticationResults.Comment(result.Reason);
        }
        if (result.FromDomain is not null)
        {
            text += " header.from=" + result.FromDomain;
        }
        return text;
    }

    private static MemoryStream Open(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
}
