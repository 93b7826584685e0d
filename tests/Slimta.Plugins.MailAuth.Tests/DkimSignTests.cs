using System.Text;
using MimeKit;
using MimeKit.Cryptography;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Plugins.MailAuth.Verify;
using Slimta.Smtp.Dns;
using static Slimta.Plugins.MailAuth.Tests.MailAuthTestKit;

namespace Slimta.Plugins.MailAuth.Tests;

[Collection(MailAuthCollection.Name)]
public sealed class DkimSignTests(MailAuthFixture fixture)
{
    private Dictionary<string, object> Domain(string selector, string key, string canonicalization = "relaxed/relaxed") => new()
    {
        ["domains"] = new Dictionary<string, object>
        {
            ["example.test"] = new Dictionary<string, object> { ["selector"] = selector, ["key"] = key },
        },
        ["canonicalization"] = canonicalization,
    };

    private async Task<bool> MimeKitVerifiesAsync(Envelope envelope, int index = 0)
    {
        var message = MimeMessage.Load(new MemoryStream(envelope.Message.Bytes.ToArray()));
        var verifier = new DkimVerifier(new DnsDkimKeyLocator(new DnsClientResolver(new DnsSettings([fixture.Dns.EndPoint], TimeSpan.FromSeconds(10)), TimeProvider.System)));
        var header = message.Headers.Where(h => h.Id == HeaderId.DkimSignature).ElementAt(index);
        return await verifier.VerifyAsync(message, header);
    }

    [Theory]
    [InlineData("rsa1", "rsa-sha256", "relaxed/relaxed")]
    [InlineData("rsa1", "rsa-sha256", "simple/simple")]
    [InlineData("rsa1", "rsa-sha256", "relaxed/simple")]
    [InlineData("ed1", "ed25519-sha256", "relaxed/relaxed")]
    [InlineData("ed1", "ed25519-sha256", "simple/simple")]
    public async Task Apply_KeyForFromDomain_SignatureVerifiesWithMimeKitAndDkimpy(string selector, string algorithm, string canonicalization)
    {
        var key = selector == "ed1" ? fixture.Ed25519Key : fixture.RsaKey;
        var envelope = Envelope(Message());
        var original = envelope.Message.Bytes.ToArray();

        await CreateSigner(Domain(selector, key, canonicalization)).ApplyAsync(envelope, CancellationToken.None);

        var signed = envelope.Message.Bytes.ToArray();
        var signature = envelope.Message.GetHeader("DKIM-Signature")!;
        Assert.StartsWith("DKIM-Signature:", Encoding.ASCII.GetString(signed, 0, 20));
        // Only the signature was added: every byte of the message follows it unchanged.
        Assert.Equal(original, signed[(signed.Length - original.Length)..]);
        Assert.Contains("a=" + algorithm, signature);
        Assert.Contains("c=" + canonicalization, signature);
        Assert.Contains("d=example.test", signature);
        Assert.Contains("s=" + selector, signature);
        Assert.Contains("t=" + Now.ToUnixTimeSeconds(), signature);
        Assert.DoesNotContain("l=", signature.Replace("; ", ";"), StringComparison.Ordinal);
        // The signature's folding uses CRLF only.
        var header = Encoding.ASCII.GetString(signed, 0, signed.Length - original.Length);
        Assert.DoesNotContain("\n", header.Replace("\r\n", string.Empty));

        Assert.True(await MimeKitVerifiesAsync(envelope), "MimeKit verifies the signature");
        var (ok, output) = await DkimpyAsync(fixture.Dns, envelope);
        Assert.True(ok, "dkimpy verifies the signature: " + output);
    }

    [Theory]
    [InlineData("rsa1")]
    [InlineData("ed1")]
    public async Task Apply_BodyTamperedAfterSigning_FailsWithMimeKitAndDkimpy(string selector)
    {
        var envelope = Envelope(Message());
        await CreateSigner(Domain(selector, selector == "ed1" ? fixture.Ed25519Key : fixture.RsaKey)).ApplyAsync(envelope, CancellationToken.None);
        var text = Text(envelope).Replace("Hello Bob,", "Hello Eve,", StringComparison.Ordinal);
        var tampered = new Envelope(envelope.Sender, envelope.Recipients, RawMessage.FromString(text));

        Assert.False(await MimeKitVerifiesAsync(tampered));
        var (ok, output) = await DkimpyAsync(fixture.Dns, tampered);
        Assert.False(ok, "dkimpy must reject the tampered body: " + output);
    }

    [Fact]
    public async Task Apply_SignedHeaderTampered_Fails()
    {
        var envelope = Envelope(Message());
        await CreateSigner(Domain("rsa1", fixture.RsaKey)).ApplyAsync(envelope, CancellationToken.None);
        var tampered = new Envelope(envelope.Sender, envelope.Recipients, RawMessage.FromString(Text(envelope).Replace("To: bob@dest.test", "To: eve@dest.test", StringComparison.Ordinal)));
        Assert.False(await MimeKitVerifiesAsync(tampered));
        Assert.False((await DkimpyAsync(fixture.Dns, tampered)).Ok);
    }

    [Theory]
    [InlineData("From: Eve <eve@example.test>\r\n")]
    [InlineData("Subject: pay invoice 42\r\n")]
    [InlineData("To: eve@dest.test\r\n")]
    public async Task Apply_SignedHeaderAddedAboveAfterSigning_Fails(string added)
    {
        // RFC 6376 §8.15: a verifier hashes the bottom-most instances, so a second From or Subject
        // added on top (what a reader sees) passes unless each present name is over-signed (§5.4.2).
        var envelope = Envelope(Message());
        await CreateSigner(Domain("rsa1", fixture.RsaKey)).ApplyAsync(envelope, CancellationToken.None);
        Assert.True(await MimeKitVerifiesAsync(envelope));
        Assert.True((await DkimpyAsync(fixture.Dns, envelope)).Ok);
        var text = Text(envelope);
        int body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 2;
        foreach (var position in new[] { text.IndexOf("From: Alice", StringComparison.Ordinal), body })
        {
            var tampered = new Envelope(envelope.Sender, envelope.Recipients, RawMessage.FromString(text.Insert(position, added)));
            Assert.False(await MimeKitVerifiesAsync(tampered), "MimeKit must reject an added " + added);
            Assert.False((await DkimpyAsync(fixture.Dns, tampered)).Ok, "dkimpy must reject an added " + added);
        }
    }

    [Fact]
    public async Task Apply_SignedTraceFieldAddedAboveByLaterHop_StillVerifies()
    {
        // Repeatable fields (Resent-*, X-…) may be added on top by later hops: signing
        // them must not reserve an empty slot, or the next hop breaks the signature.
        var options = Domain("rsa1", fixture.RsaKey);
        options["headers"] = new object[] { "From", "Subject", "Resent-From" };
        var envelope = Envelope("Resent-From: first@example.test\r\n" + Message());
        await CreateSigner(options).ApplyAsync(envelope, CancellationToken.None);
        var hop = new Envelope(envelope.Sender, envelope.Recipients, RawMessage.FromString("Resent-From: later@example.test\r\n" + Text(envelope)));
        Assert.True(await MimeKitVerifiesAsync(hop), "MimeKit must accept a Resent-From added by a later hop");
        Assert.True((await DkimpyAsync(fixture.Dns, hop)).Ok, "dkimpy must accept a Resent-From added by a later hop");
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage line without a colon\r\n\r\nbody\r\n")]
    [InlineData("\r\nonly a body\r\n")]
    public async Task Apply_MessageWithoutHeaderSection_PassedOnUnsigned(string message)
    {
        var envelope = new Envelope("a@example.test", ["b@dest.test"], RawMessage.FromString(message));
        await CreateSigner(Domain("rsa1", fixture.RsaKey)).ApplyAsync(envelope, CancellationToken.None);
        Assert.Equal(message, Text(envelope));
    }

    [Fact]
    public async Task Apply_RsaAndEd25519ForOneDomain_BothSignaturesVerify()
    {
        var options = new Dictionary<string, object>
        {
            ["domains"] = new Dictionary<string, object>
            {
                ["example.test"] = new object[]
                {
                    new Dictionary<string, object> { ["selector"] = "rsa1", ["key"] = fixture.RsaKey },
                    new Dictionary<string, object> { ["selector"] = "ed1", ["key"] = fixture.Ed25519Key },
                },
            },
        };
        var envelope = Envelope(Message());
        await CreateSigner(options).ApplyAsync(envelope, CancellationToken.None);

        Assert.Equal(2, envelope.Message.GetHeaders("DKIM-Signature").Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await MimeKitVerifiesAsync(envelope, i));
            Assert.True((await DkimpyAsync(fixture.Dns, envelope, i)).Ok);
        }
    }

    [Fact]
    public async Task Apply_SubdomainFrom_SignsWithTheParentDomainsKey()
    {
        var envelope = Envelope(Message("<news@mail.example.test>"));
        await CreateSigner(Domain("rsa1", fixture.RsaKey)).ApplyAsync(envelope, CancellationToken.None);
        Assert.Contains("d=example.test", envelope.Message.GetHeader("DKIM-Signature"));
        Assert.True((await DkimpyAsync(fixture.Dns, envelope)).Ok);
    }

    [Fact]
    public async Task Apply_FromDomainWithoutKey_UsesDefaultOrLeavesMessageUnchanged()
    {
        var unknown = Envelope(Message("<someone@unknown.test>"));
        var before = unknown.Message.Bytes.ToArray();
        await CreateSigner(Domain("rsa1", fixture.RsaKey)).ApplyAsync(unknown, CancellationToken.None);
        Assert.Equal(before, unknown.Message.Bytes.ToArray());

        var options = Domain("rsa1", fixture.RsaKey);
        options["default"] = new Dictionary<string, object> { ["domain"] = "other.test", ["selector"] = "rsa1", ["key"] = fixture.RsaKey };
        await CreateSigner(options).ApplyAsync(unknown, CancellationToken.None);
        Assert.Contains("d=other.test", unknown.Message.GetHeader("DKIM-Signature"));
        Assert.True((await DkimpyAsync(fixture.Dns, unknown)).Ok);
    }

    [Fact]
    public async Task Apply_ConfiguredHeaders_SignsThemAndFrom()
    {
        var options = Domain("rsa1", fixture.RsaKey);
        options["headers"] = new object[] { "Subject", "To", "X-Unsigned" };
        var envelope = Envelope(Message());
        await CreateSigner(options).ApplyAsync(envelope, CancellationToken.None);
        var h = Slimta.Plugins.MailAuth.Dkim.DkimSignPolicy.Tag(envelope.Message.GetHeader("DKIM-Signature")!, "h")!.ToLowerInvariant();
        // Once-only names are over-signed, others signed per instance, absent ones signed too (RFC 6376
        // §5.4): nobody can add them later.
        Assert.Equal(["from", "from", "subject", "subject", "to", "to", "x-unsigned"], h.Split(':'));
        Assert.True((await DkimpyAsync(fixture.Dns, envelope)).Ok);
    }

    public static TheoryData<string> Unusual => new(UnusualMessages.Keys);

    private static readonly Dictionary<string, byte[]> UnusualMessages = Build();

    private static Dictionary<string, byte[]> Build()
    {
        const string head = "From: a@example.test\r\nSubject: x\r\n";
        return new Dictionary<string, byte[]>
        {
            ["no final line break"] = Encoding.ASCII.GetBytes(head + "\r\nbody"),
            ["bare CR in a line"] = Encoding.ASCII.GetBytes(head + "\r\nbo\rdy\r\n"),
            ["bare LF line end"] = Encoding.ASCII.GetBytes(head + "\r\nline1\nline2\r\n"),
            ["8-bit body, NUL"] = [.. Encoding.ASCII.GetBytes(head + "\r\n"), 0xE9, 0xFC, 0x00, 0xFF, 13, 10],
            ["multipart without closing boundary"] = Encoding.ASCII.GetBytes(head + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\npre\r\n--b\r\nContent-Type: text/plain\r\n\r\npart\r\n"),
            ["multipart with epilogue"] = Encoding.ASCII.GetBytes(head + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\npart\r\n--b--\r\nepi\r\n\r\n\r\n"),
            ["headers only"] = Encoding.ASCII.GetBytes(head),
            ["empty body"] = Encoding.ASCII.GetBytes(head + "\r\n"),
            ["no space after colons"] = Encoding.ASCII.GetBytes("From:a@example.test\r\nSubject:x\r\n\r\nb\r\n"),
            ["3000-byte line"] = Encoding.ASCII.GetBytes(head + "\r\n" + new string('x', 3000) + "\r\n"),
            ["tabs and trailing white space in headers"] = Encoding.ASCII.GetBytes("From: a@example.test\r\nSubject:\t x \r\nTo:\tb@dest.test  \r\n\r\nb\r\n"),
            ["8-bit header"] = Encoding.UTF8.GetBytes("From: J\u00fcrgen <a@example.test>\r\nSubject: Gr\u00fc\u00dfe \t aus\r\n K\u00f6ln\r\n\r\nb\r\n"),
            ["bare LF in headers"] = Encoding.ASCII.GetBytes("From: a@example.test\nSubject: x\n  folded\n\nb\n"),
            ["empty header value"] = Encoding.ASCII.GetBytes("From: a@example.test\r\nSubject:\r\nCc: \r\n\r\nb\r\n"),
        };
    }

    [Theory]
    [MemberData(nameof(Unusual))]
    public async Task Apply_UnusualMessage_SignedOverTheBytesAsTheyAreAndVerifiedByDkimpy(string name)
    {
        var bytes = UnusualMessages[name];
        foreach (var canonicalization in new[] { "simple/simple", "relaxed/relaxed" })
        {
            var envelope = new Envelope("a@example.test", ["b@dest.test"], new RawMessage(bytes));
            await CreateSigner(Domain("rsa1", fixture.RsaKey, canonicalization)).ApplyAsync(envelope, CancellationToken.None);
            var signed = envelope.Message.Bytes.ToArray();
            Assert.True(envelope.Message.HasHeader("DKIM-Signature"), name + " " + canonicalization + " was not signed");
            Assert.Equal(bytes, signed[(signed.Length - bytes.Length)..]);
            var (ok, output) = await DkimpyAsync(fixture.Dns, envelope);
            Assert.True(ok, name + " " + canonicalization + ": " + output);
        }
    }

    [Fact]
    public void Create_MissingOrBadKeyFile_ConfigErrorNamingTheKeyPathAndFile()
    {
        var missing = Path.Combine(fixture.Directory, "missing.pem");
        var error = Assert.Throws<ConfigException>(() => CreateSigner(Domain("rsa1", missing)));
        Assert.Equal("relay.out.policies.0.domains.example.test.key", error.KeyPath);
        Assert.Contains(missing, error.Message);

        var bad = Path.Combine(fixture.Directory, "bad.pem");
        File.WriteAllText(bad, "not a key\n");
        error = Assert.Throws<ConfigException>(() => CreateSigner(Domain("rsa1", "bad.pem"), configDirectory: fixture.Directory));
        Assert.Equal("relay.out.policies.0.domains.example.test.key", error.KeyPath);
        Assert.Contains(bad, error.Message);
    }

    [Theory]
    [InlineData("canonicalization", "loose/simple")]
    [InlineData("headers", "DKIM-Signature")]
    [InlineData("headers", "Received")]
    [InlineData("headers", "received")]
    [InlineData("headers", "Return-Path")]
    [InlineData("headers", "Comments")]
    [InlineData("headers", "Keywords")]
    [InlineData("headers", "Resent-Bcc")]
    public void Validate_BadOption_ConfigErrorAtKeyPath(string key, string value)
    {
        var options = Domain("rsa1", fixture.RsaKey);
        options[key] = value;
        var error = Assert.Throws<ConfigException>(() => CreateSigner(options));
        Assert.Equal("relay.out.policies.0." + key, error.KeyPath);
    }

    [Fact]
    public void Validate_NoKeys_ConfigError()
    {
        var error = Assert.Throws<ConfigException>(() => CreateSigner(new Dictionary<string, object>()));
        Assert.Equal("relay.out.policies.0", error.KeyPath);
    }
}
