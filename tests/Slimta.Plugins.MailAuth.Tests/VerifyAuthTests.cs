using System.Net;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Plugins.MailAuth.Dkim;
using Slimta.Plugins.MailAuth.Verify;
using static Slimta.Plugins.MailAuth.Tests.MailAuthTestKit;

namespace Slimta.Plugins.MailAuth.Tests;

[Collection(MailAuthCollection.Name)]
public sealed class VerifyAuthTests(MailAuthFixture fixture)
{
    private const string Id = "mx.slimta.test";

    private async Task<Envelope> SignedAsync(Envelope envelope, string domain = "example.test", string selector = "rsa1", string? key = null)
    {
        var options = new Dictionary<string, object>
        {
            ["domains"] = new Dictionary<string, object>
            {
                [domain] = new Dictionary<string, object> { ["selector"] = selector, ["key"] = key ?? fixture.RsaKey },
            },
        };
        await CreateSigner(options).ApplyAsync(envelope, CancellationToken.None);
        return envelope;
    }

    /// <summary>The header.b value the verifier writes: the signature's first 8 characters, quoted when they hold a '/'.</summary>
    private static string B(Envelope envelope) => AuthenticationResults.Value(DkimSignPolicy.Tag(envelope.Message.GetHeader("DKIM-Signature")!, "b")![..8]);

    private static string Header(params string[] results) => "Authentication-Results: " + Id + ";\r\n\t" + string.Join(";\r\n\t", results) + "\r\n";

    private async Task<string> VerifyAsync(Envelope envelope, Dictionary<string, object>? options = null)
    {
        var result = await CreateVerifier(fixture.Dns, options).ApplyAsync(envelope, CancellationToken.None);
        Assert.Null(result);
        return Text(envelope);
    }

    [Fact]
    public async Task Apply_SpfPassDkimPassAligned_DmarcPass()
    {
        var envelope = await SignedAsync(Envelope(Message()));
        var original = Text(envelope);
        var text = await VerifyAsync(envelope);
        Assert.Equal(Header(
            "spf=pass smtp.mailfrom=alice@example.test",
            $"dkim=pass header.d=example.test header.s=rsa1 header.b={B(envelope)}",
            "dmarc=pass (p=reject sp=quarantine dis=none) header.from=example.test") + original, text);
    }

    [Fact]
    public async Task Apply_Ed25519Signature_DkimPass()
    {
        var envelope = await SignedAsync(Envelope(Message()), selector: "ed1", key: fixture.Ed25519Key);
        var text = await VerifyAsync(envelope);
        Assert.Contains($"dkim=pass header.d=example.test header.s=ed1 header.b={B(envelope)};", text);
    }

    [Fact]
    public async Task Apply_TamperedBody_DkimFailButSpfAlignedDmarcPass()
    {
        var signed = await SignedAsync(Envelope(Message()));
        var envelope = Envelope(Text(signed).Replace("Hello Bob,", "Hello Eve,", StringComparison.Ordinal));
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header(
            "spf=pass smtp.mailfrom=alice@example.test",
            $"dkim=fail (signature verification failed) header.d=example.test header.s=rsa1 header.b={B(signed)}",
            "dmarc=pass (p=reject sp=quarantine dis=none) header.from=example.test"), text);
    }

    [Fact]
    public async Task Apply_SpfFailUnsigned_DmarcFailReportedOnly()
    {
        var envelope = Envelope(Message("<alice@fail.test>"), sender: "alice@fail.test");
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header(
            "spf=fail smtp.mailfrom=alice@fail.test",
            "dkim=none",
            "dmarc=fail (p=reject dis=reject) header.from=fail.test"), text);
    }

    [Fact]
    public async Task Apply_DmarcFailWithPolicyRejectAndRejectConfigured_Refuses550()
    {
        var envelope = Envelope(Message("<alice@fail.test>"), sender: "alice@fail.test");
        var policy = CreateVerifier(fixture.Dns, new() { ["dmarc_reject"] = "reject" });
        var error = await Assert.ThrowsAsync<QueuePolicyRejectedException>(() => policy.ApplyAsync(envelope, CancellationToken.None).AsTask());
        Assert.Equal("550 5.7.1 Email rejected per DMARC policy for fail.test", error.Reply.ToString());
    }

    [Fact]
    public async Task Apply_DmarcFailFromAuthenticatedClient_NeverRefused()
    {
        var envelope = Envelope(Message("<alice@fail.test>"), sender: "alice@fail.test");
        envelope.Client = envelope.Client with { AuthenticatedUser = "alice", Protocol = "ESMTPA" };
        var text = await VerifyAsync(envelope, new() { ["dmarc_reject"] = "reject" });
        Assert.StartsWith(Header(
            "auth=pass smtp.auth=alice",
            "spf=fail smtp.mailfrom=alice@fail.test",
            "dkim=none",
            "dmarc=fail (p=reject dis=reject) header.from=fail.test"), text);
    }

    [Fact]
    public async Task Apply_LocalBounceFromDomainWithRejectPolicy_NotRefused()
    {
        // A bounce made by this host (ClientInfo.Local) through a queue with dmarc_reject: reject.
        var envelope = Envelope(Message("<MAILER-DAEMON@fail.test>"), sender: "", helo: null);
        envelope.Client = ClientInfo.Local;
        var text = await VerifyAsync(envelope, new() { ["dmarc_reject"] = "reject" });
        Assert.StartsWith(Header("spf=none smtp.helo=\"\"", "dkim=none", "dmarc=fail (p=reject dis=reject) header.from=fail.test"), text);
    }

    [Fact]
    public async Task Apply_SoftFailWithPolicyQuarantine_QuarantineHeaderAdded()
    {
        var envelope = Envelope(Message("<bob@softfail.test>"), sender: "bob@softfail.test");
        var text = await VerifyAsync(envelope, new() { ["dmarc_quarantine"] = "quarantine", ["quarantine_header"] = "X-Quarantine: dmarc" });
        Assert.StartsWith("X-Quarantine: dmarc\r\n" + Header(
            "spf=softfail smtp.mailfrom=bob@softfail.test",
            "dkim=none",
            "dmarc=fail (p=quarantine dis=quarantine) header.from=softfail.test"), text);
    }

    [Fact]
    public async Task Apply_RejectPolicyWithRejectAsQuarantine_DefaultQuarantineHeader()
    {
        var envelope = Envelope(Message("<alice@fail.test>"), sender: "alice@fail.test");
        var text = await VerifyAsync(envelope, new() { ["dmarc_reject"] = "quarantine" });
        Assert.StartsWith("X-Spam-Flag: YES\r\nAuthentication-Results: ", text);
    }

    [Fact]
    public async Task Apply_SubdomainFromSignedByParent_RelaxedAlignmentPassesViaOrganizationalRecord()
    {
        // No _dmarc.mail.example.test: the record of the organizational domain example.test applies (its sp).
        var envelope = await SignedAsync(Envelope(Message("<news@mail.example.test>"), sender: "bounce@other.test"));
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header(
            "spf=pass smtp.mailfrom=bounce@other.test",
            $"dkim=pass header.d=example.test header.s=rsa1 header.b={B(envelope)}",
            "dmarc=pass (p=reject sp=quarantine dis=none) header.from=mail.example.test"), text);
    }

    [Fact]
    public async Task Apply_StrictAlignmentWithParentIdentifiers_DmarcFail()
    {
        // adkim=s and aspf=s: d=strict.test and MAIL FROM strict.test do not align with sub.strict.test.
        var envelope = await SignedAsync(Envelope(Message("<a@sub.strict.test>"), sender: "bounce@strict.test"), domain: "strict.test");
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header(
            "spf=pass smtp.mailfrom=bounce@strict.test",
            $"dkim=pass header.d=strict.test header.s=rsa1 header.b={B(envelope)}",
            "dmarc=fail (p=reject dis=reject) header.from=sub.strict.test"), text);
    }

    [Fact]
    public async Task Apply_UnalignedSpfPassOnly_DmarcFail()
    {
        var envelope = Envelope(Message(), sender: "bounce@other.test");
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header(
            "spf=pass smtp.mailfrom=bounce@other.test",
            "dkim=none",
            "dmarc=fail (p=reject sp=quarantine dis=reject) header.from=example.test"), text);
    }

    [Fact]
    public async Task Apply_NullSender_SpfChecksHeloAndAlignsWithIt()
    {
        var envelope = Envelope(Message("<MAILER-DAEMON@client.example.test>"), sender: "");
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header(
            "spf=pass smtp.helo=client.example.test",
            "dkim=none",
            "dmarc=pass (p=reject sp=quarantine dis=none) header.from=client.example.test"), text);
    }

    [Fact]
    public async Task Apply_SignatureWithUnpublishedSelector_DkimPermError()
    {
        var envelope = await SignedAsync(Envelope(Message()), selector: "gone");
        var text = await VerifyAsync(envelope);
        Assert.Contains($"dkim=permerror (no key for signature at gone._domainkey.example.test) header.d=example.test header.s=gone header.b={B(envelope)};", text);
    }

    [Fact]
    public async Task Apply_WrongKeyPublished_DkimFail()
    {
        var envelope = await SignedAsync(Envelope(Message()), key: fixture.OtherRsaKey);
        var text = await VerifyAsync(envelope);
        Assert.Contains("dkim=fail (signature verification failed) header.d=example.test header.s=rsa1", text);
    }

    [Fact]
    public async Task Apply_DnsErrors_TempErrorsAndMessageStillAccepted()
    {
        // The test DNS server refuses every name outside .test: each lookup is a DNS error.
        var envelope = await SignedAsync(Envelope(Message("<alice@example.org>"), sender: "alice@example.org"), domain: "example.org");
        var text = await VerifyAsync(envelope, new() { ["dmarc_reject"] = "reject" });
        Assert.StartsWith(Header(
            "spf=temperror smtp.mailfrom=alice@example.org",
            $"dkim=temperror (DNS error looking up rsa1._domainkey.example.org) header.d=example.org header.s=rsa1 header.b={B(envelope)}",
            "dmarc=temperror (DNS error looking up the DMARC record) header.from=example.org"), text);
    }

    [Fact]
    public async Task Apply_NoDmarcRecordAnywhere_DmarcNone()
    {
        var envelope = Envelope(Message("<x@nowhere.test>"), sender: "x@nowhere.test");
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header("spf=none smtp.mailfrom=x@nowhere.test", "dkim=none", "dmarc=none header.from=nowhere.test"), text);
    }

    [Fact]
    public async Task Apply_ExistingResultsClaimingOurId_RemovedOthersKept()
    {
        var forged = "Authentication-Results: MX.SLIMTA.TEST (forged);\r\n\tspf=pass smtp.mailfrom=alice@example.test\r\n" +
            "Authentication-Results: upstream.example; dkim=pass header.d=example.test\r\n";
        var envelope = Envelope(forged + Message("<alice@fail.test>"), sender: "alice@fail.test");
        var text = await VerifyAsync(envelope);
        Assert.Equal(Header("spf=fail smtp.mailfrom=alice@fail.test", "dkim=none", "dmarc=fail (p=reject dis=reject) header.from=fail.test") +
            "Authentication-Results: upstream.example; dkim=pass header.d=example.test\r\n" + Message("<alice@fail.test>"), text);
    }

    [Fact]
    public async Task Apply_SeveralFromHeaders_DmarcPermError()
    {
        var envelope = Envelope("From: a@example.test\r\n" + Message("<b@fail.test>"));
        var text = await VerifyAsync(envelope);
        Assert.Contains("dmarc=permerror (several From headers)\r\n", text);
    }

    [Fact]
    public async Task Apply_ClientOutsideSpf_SpfFailForOwnDomain()
    {
        var envelope = Envelope(Message(), address: IPAddress.Parse("192.0.2.7"));
        var text = await VerifyAsync(envelope);
        Assert.StartsWith(Header("spf=fail smtp.mailfrom=alice@example.test", "dkim=none", "dmarc=fail (p=reject sp=quarantine dis=reject) header.from=example.test"), text);
    }

    [Theory]
    [InlineData("dmarc_reject", "drop")]
    [InlineData("dmarc_quarantine", "reject")]
    [InlineData("quarantine_header", "no colon")]
    [InlineData("authserv_id", "two words")]
    [InlineData("max_signatures", "0")]
    public void Validate_BadOption_ConfigErrorAtKeyPath(string key, string value)
    {
        var error = Assert.Throws<ConfigException>(() => CreateVerifier(fixture.Dns, new() { [key] = value }));
        Assert.Equal("queue.in.policies.0." + key, error.KeyPath);
    }
}
