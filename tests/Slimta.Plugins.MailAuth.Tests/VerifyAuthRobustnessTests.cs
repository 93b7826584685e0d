using Slimta.Abstractions.Envelopes;
using static Slimta.Plugins.MailAuth.Tests.MailAuthTestKit;

namespace Slimta.Plugins.MailAuth.Tests;

/// <summary>
/// verify_auth against key records a verifier must not use, DMARC records that end discovery, and
/// messages it cannot fully parse: it always adds Authentication-Results and never throws.
/// </summary>
[Collection(MailAuthCollection.Name)]
public sealed class VerifyAuthRobustnessTests(MailAuthFixture fixture)
{
    private async Task<Envelope> SignedAsync(Envelope envelope, string selector, string? key = null)
    {
        var options = new Dictionary<string, object>
        {
            ["domains"] = new Dictionary<string, object>
            {
                ["example.test"] = new Dictionary<string, object> { ["selector"] = selector, ["key"] = key ?? fixture.RsaKey },
            },
        };
        await CreateSigner(options).ApplyAsync(envelope, CancellationToken.None);
        Assert.NotNull(envelope.Message.GetHeader("DKIM-Signature"));
        return envelope;
    }

    private async Task<string> VerifyAsync(Envelope envelope)
    {
        var result = await CreateVerifier(fixture.Dns).ApplyAsync(envelope, CancellationToken.None);
        Assert.Null(result);
        return Text(envelope);
    }

    private static string DkimResult(string text)
    {
        int start = text.IndexOf("dkim=", StringComparison.Ordinal);
        return text[start..text.IndexOf(' ', start)];
    }

    [Theory]
    [InlineData("revoked")]
    [InlineData("mismatch")]
    [InlineData("sha1only")]
    [InlineData("badversion")]
    [InlineData("otherservice")]
    public async Task Apply_SignatureWithUnusableKeyRecord_DkimPermError(string selector)
    {
        var envelope = await SignedAsync(Envelope(Message()), selector);
        var text = await VerifyAsync(envelope);
        Assert.Equal("dkim=permerror", DkimResult(text));
    }

    [Theory]
    [InlineData("s=" + "a123456789b123456789c123456789d123456789e123456789f123456789g1234; d=example.test")]
    [InlineData("s=rsa1; d=example..test")]
    [InlineData("s=bad sel; d=example.test")]
    public async Task Apply_SignatureNamingNoValidKeyName_DkimPermErrorNotTempError(string tags)
    {
        // A name that cannot be asked is the signature's fault (RFC 6376 §6.1.1), not a DNS outage.
        var message = "From: a@example.test\r\nDKIM-Signature: v=1; a=rsa-sha256; " + tags +
            "; h=from; bh=Ck5SoRNWUpSR4X0COv7R5ub2pUTtl6xz4dTFz++ji4M=; b=AAAA\r\n\r\nbody\r\n";
        var text = await VerifyAsync(Envelope(message, sender: "a@example.test"));
        Assert.Equal("dkim=permerror", DkimResult(text));
    }

    /// <summary>A message signed by MimeKit directly, with an i= (dkim_sign never sets one).</summary>
    private Envelope SignedWithIdentity(string selector, string identity)
    {
        var message = MimeKit.MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Message())));
        using var reader = new StreamReader(fixture.RsaKey);
        var pem = new Org.BouncyCastle.OpenSsl.PemReader(reader).ReadObject();
        var key = pem is Org.BouncyCastle.Crypto.AsymmetricCipherKeyPair pair ? pair.Private : (Org.BouncyCastle.Crypto.AsymmetricKeyParameter)pem;
        var signer = new MimeKit.Cryptography.DkimSigner(key, "example.test", selector, MimeKit.Cryptography.DkimSignatureAlgorithm.RsaSha256)
        {
            AgentOrUserIdentifier = identity,
            HeaderCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
        };
        var format = MimeKit.FormatOptions.Default.Clone();
        format.NewLineFormat = MimeKit.NewLineFormat.Dos;
        signer.Sign(format, message, ["From", "Subject"]);
        using var stream = new MemoryStream();
        message.WriteTo(format, stream);
        return new Envelope("a@example.test", ["bob@dest.test"], new RawMessage(stream.ToArray()))
        {
            Client = Envelope(Message()).Client,
        };
    }

    [Theory]
    [InlineData("strict", "@sub.example.test", "dkim=permerror")]
    [InlineData("strict", "@example.test", "dkim=pass")]
    [InlineData("rsa1", "@sub.example.test", "dkim=pass")]
    public async Task Apply_KeyWithStrictFlagAndIdentityInSubdomain_DkimPermError(string selector, string identity, string expected)
    {
        // RFC 6376 §3.6.1: t=s forbids an i= domain that is a subdomain of d=.
        var text = await VerifyAsync(SignedWithIdentity(selector, identity));
        Assert.Equal(expected, DkimResult(text));
    }

    /// <summary>
    /// A hand-made rsa-sha256 relaxed/relaxed signature over From and Subject whose l= covers the
    /// first <paramref name="signedBody"/>, followed by <paramref name="appended"/> (RFC 6376 §3.4.5).
    /// </summary>
    private Envelope SignedWithLength(string signedBody, string appended)
    {
        const string headers = "From: Alice <alice@example.test>\r\nSubject: l= test\r\n";
        var canonical = System.Text.Encoding.ASCII.GetBytes(signedBody);
        var bh = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(canonical));
        var tags = $"v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=rsa1; l={canonical.Length}; h=from:subject; bh={bh}; b=";
        var hashed = "from:Alice <alice@example.test>\r\nsubject:l= test\r\ndkim-signature:" + tags;
        using var reader = new StreamReader(fixture.RsaKey);
        var pem = new Org.BouncyCastle.OpenSsl.PemReader(reader).ReadObject();
        var key = pem is Org.BouncyCastle.Crypto.AsymmetricCipherKeyPair pair ? pair.Private : (Org.BouncyCastle.Crypto.AsymmetricKeyParameter)pem;
        var signer = Org.BouncyCastle.Security.SignerUtilities.GetSigner("SHA256withRSA");
        signer.Init(true, key);
        var data = System.Text.Encoding.ASCII.GetBytes(hashed);
        signer.BlockUpdate(data, 0, data.Length);
        var b = Convert.ToBase64String(signer.GenerateSignature());
        var message = "DKIM-Signature: " + tags + b + "\r\n" + headers + "\r\n" + signedBody + appended;
        return Envelope(message, sender: "x@fail.test");
    }

    [Fact]
    public async Task Apply_SignatureWithBodyLength_VerifiesOverTheCountedBytes()
    {
        Assert.Equal("dkim=pass", DkimResult(await VerifyAsync(SignedWithLength("Hello Bob,\r\n", string.Empty))));
        // Content after l= is not covered (RFC 6376 §8.2): the signature still verifies...
        Assert.Equal("dkim=pass", DkimResult(await VerifyAsync(SignedWithLength("Hello Bob,\r\n", "Click here\r\n"))));
        // ...but a change inside the counted bytes does not.
        var tampered = Text(SignedWithLength("Hello Bob,\r\n", string.Empty)).Replace("Hello Bob", "Hello Eve", StringComparison.Ordinal);
        Assert.Equal("dkim=fail", DkimResult(await VerifyAsync(Envelope(tampered, sender: "x@fail.test"))));
    }

    [Fact]
    public async Task Apply_SeveralDmarcRecordsAtFromDomain_DmarcNoneWithoutOrganizationalFallback()
    {
        var envelope = Envelope(Message("<a@multi.example.test>"), sender: "x@fail.test");
        var text = await VerifyAsync(envelope);
        Assert.Contains("dmarc=none", text);
    }

    [Fact]
    public async Task Apply_InvalidDmarcRecordAtFromDomain_DmarcNoneWithoutOrganizationalFallback()
    {
        var envelope = Envelope(Message("<a@badp.example.test>"), sender: "x@fail.test");
        var text = await VerifyAsync(envelope);
        Assert.Contains("dmarc=none", text);
    }

    [Theory]
    [InlineData("garbage line without a colon\r\n\r\nbody\r\n")]
    [InlineData("")]
    [InlineData("\r\nonly a body\r\n")]
    [InlineData("From: undisclosed-recipients:;\r\nSubject: x\r\n\r\nbody\r\n")]
    [InlineData("From: J\u00fcrgen <j@b\u00fccher.example.test>\r\nSubject: Gr\u00fc\u00dfe\r\n\r\nbody\r\n")]
    [InlineData("From: a@example.test\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=rsa1; h=from; bh=!!; b=!!\r\n\r\nbody\r\n")]
    [InlineData("From: a@example.test\r\nDKIM-Signature: garbage\r\n\r\nbody\r\n")]
    [InlineData("From: a@example.test\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=rsa1; h=from; l=999999; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n\r\nbody\r\n")]
    [InlineData("From: a@example.test\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=revoked; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n\r\nbody\r\n")]
    [InlineData("From: a@example.test\r\nDKIM-Signature: v=1; a=ed25519-sha256; d=example.test; s=rsa1; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n\r\nbody\r\n")]
    public async Task Apply_MalformedMessage_AuthenticationResultsAddedNoThrow(string message)
    {
        var envelope = Envelope(message, sender: "a@example.test");
        var text = await VerifyAsync(envelope);
        Assert.StartsWith("Authentication-Results: mx.slimta.test;\r\n\tspf=pass smtp.mailfrom=a@example.test;\r\n\t", text);
    }
}
