using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;

namespace Slimta.Plugins.Local.Tests;

public sealed class MaildirRelayTests : IDisposable
{
    private static readonly byte[] Original = Encoding.UTF8.GetBytes("From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n");
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 21, 0, 0, TimeSpan.Zero);

    private readonly string _outer = TestPaths.NewTempDir("slimta-maildir");
    private readonly string _root;

    public MaildirRelayTests()
    {
        _root = Path.Combine(_outer, "mail");
    }

    public void Dispose() => Directory.Delete(_outer, recursive: true);

    private ComponentContext Context => new(new FakeTimeProvider(Now), NullLoggerFactory.Instance, "mx", "mx.example.com", _outer);

    internal static ComponentOptions Options(string type, params (string Key, string Value)[] entries) => new(
        new ConfigMap("relay.local", new[] { (Key: "type", Value: type) }.Concat(entries).Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("relay.local." + e.Key, e.Value)))),
        new HashSet<string>(StringComparer.Ordinal) { "type" });

    private IRelay Create(params (string Key, string Value)[] entries)
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["maildir"];
        var options = Options("maildir", entries);
        factory.Validate(options);
        return factory.Create(options, Context);
    }

    private static Envelope NewEnvelope(string sender, params string[] recipients) => new(sender, recipients, new RawMessage(Original));

    private static byte[] Expected(string sender, string recipient) =>
        [.. Encoding.UTF8.GetBytes($"Return-Path: <{sender}>\r\nDelivered-To: {recipient}\r\n"), .. Original];

    private static string[] NewFiles(string mailbox) => Directory.GetFiles(Path.Combine(mailbox, "new"));

    private string[] AllFilesUnderOuter() => Directory.GetFiles(_outer, "*", SearchOption.AllDirectories);

    [Fact]
    public async Task AttemptAsync_TwoRecipients_OneFileEachWithTraceHeadersThenOriginalBytes()
    {
        var relay = Create(("path", "mail"));
        var result = await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com", "bob@example.com"), 0, CancellationToken.None);

        Assert.Equal(2, result.Recipients.Count);
        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
        Assert.Equal("250 2.0.0 Ok: delivered to maildir", result.Recipients[0].Reply.ToString());
        foreach (var name in new[] { "alice", "bob" })
        {
            var mailbox = Path.Combine(_root, name);
            var file = Assert.Single(NewFiles(mailbox));
            Assert.Equal(Expected("s@example.org", name + "@example.com"), await File.ReadAllBytesAsync(file));
            Assert.Empty(Directory.GetFiles(Path.Combine(mailbox, "tmp")));
            Assert.True(Directory.Exists(Path.Combine(mailbox, "cur")));
        }
        Assert.Equal(2, AllFilesUnderOuter().Length);
    }

    [Fact]
    public async Task AttemptAsync_DeliveredFile_MimeKitReadsTraceHeadersAndOriginalFields()
    {
        var relay = Create(("path", "mail"));
        await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com"), 0, CancellationToken.None);
        var file = Assert.Single(NewFiles(Path.Combine(_root, "alice")));
        using var stream = File.OpenRead(file);
        var parsed = await MimeKit.MimeMessage.LoadAsync(stream);
        Assert.Equal("<s@example.org>", parsed.Headers[MimeKit.HeaderId.ReturnPath]);
        Assert.Equal("alice@example.com", parsed.Headers["Delivered-To"]);
        Assert.Equal("hi", parsed.Subject);
        Assert.Equal("body", parsed.TextBody?.TrimEnd());
    }

    [Fact]
    public async Task AttemptAsync_SameRecipientTwice_TwoDistinctFiles()
    {
        var relay = Create(("path", "mail"));
        await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com"), 0, CancellationToken.None);
        await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com"), 0, CancellationToken.None);
        Assert.Equal(2, NewFiles(Path.Combine(_root, "alice")).Length);
    }

    [Fact]
    public async Task AttemptAsync_UniqueName_IsTimeMicrosPidRandomHostname()
    {
        var relay = Create(("path", "mail"));
        await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com"), 0, CancellationToken.None);
        var name = Path.GetFileName(Assert.Single(NewFiles(Path.Combine(_root, "alice"))));
        Assert.Matches($@"^{Now.ToUnixTimeSeconds()}\.M0P{Environment.ProcessId}R[0-9a-f]{{16}}\.mx$", name);
    }

    [Fact]
    public async Task AttemptAsync_NullSender_ReturnPathIsEmptyBrackets()
    {
        var relay = Create(("path", "mail"));
        await relay.AttemptAsync(NewEnvelope(string.Empty, "alice@example.com"), 0, CancellationToken.None);
        var file = Assert.Single(NewFiles(Path.Combine(_root, "alice")));
        Assert.Equal(Expected(string.Empty, "alice@example.com"), await File.ReadAllBytesAsync(file));
        Assert.StartsWith("Return-Path: <>\r\n", Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AttemptAsync_EightBitBinaryBody_BytesKeptExactly()
    {
        var body = new byte[256];
        for (int i = 0; i < body.Length; i++)
        {
            body[i] = (byte)i;
        }
        byte[] message = [.. Encoding.UTF8.GetBytes("Subject: =?utf-8?q?=C3=A9?=\r\nX-Raw: caf\u00e9\r\n\r\n"), .. body];
        var relay = Create(("path", "mail"));
        await relay.AttemptAsync(new Envelope("s@example.org", ["alice@example.com"], new RawMessage(message)), 0, CancellationToken.None);
        var file = Assert.Single(NewFiles(Path.Combine(_root, "alice")));
        byte[] expected = [.. Encoding.ASCII.GetBytes("Return-Path: <s@example.org>\r\nDelivered-To: alice@example.com\r\n"), .. message];
        Assert.Equal(expected, await File.ReadAllBytesAsync(file));
    }

    [Theory]
    [InlineData("{localpart}", "../../etc@x")]
    [InlineData("{localpart}", "..@x")]
    [InlineData("{localpart}", "a/b@x")]
    [InlineData("{localpart}", "a\\b@x")]
    [InlineData("{localpart}", "/etc/passwd@x")]
    [InlineData("{domain}/{localpart}", "alice@..")]
    [InlineData("{domain}/{localpart}", "alice@../../tmp")]
    [InlineData("{domain}/{localpart}", "alice")]
    [InlineData("{recipient}", "../..")]
    [InlineData("{recipient}", "a@b/../../..")]
    [InlineData("{localpart}", "@x")]
    [InlineData("{localpart}", "a\u0000b@x")]
    [InlineData("{localpart}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x")]
    public async Task AttemptAsync_HostileRecipient_Permanent550AndNothingWritten(string template, string recipient)
    {
        var relay = Create(("path", "mail"), ("mailbox", template));
        var result = await relay.AttemptAsync(NewEnvelope("s@example.org", recipient, "good@example.com"), 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.PermanentFailure, result.Recipients[0].Outcome);
        Assert.Equal(550, result.Recipients[0].Reply.Code);
        Assert.Equal("5.1.1", result.Recipients[0].Reply.EnhancedStatus);
        Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[1].Outcome);
        // The only file anywhere under the test directory is the good recipient's, inside the root.
        var file = Assert.Single(AllFilesUnderOuter());
        Assert.StartsWith(_root + Path.DirectorySeparatorChar, file, StringComparison.Ordinal);
        Assert.Equal(["mail"], Directory.GetFileSystemEntries(_outer).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AttemptAsync_DomainTemplate_DomainLowerCasedLocalPartKept()
    {
        var relay = Create(("path", "mail"), ("mailbox", "{domain}/{localpart}"));
        await relay.AttemptAsync(NewEnvelope("s@example.org", "Alice@EXAMPLE.Com"), 0, CancellationToken.None);
        Assert.Single(NewFiles(Path.Combine(_root, "example.com", "Alice")));
    }

    [Fact]
    public async Task AttemptAsync_RecipientTemplate_MailboxIsWholeAddress()
    {
        var relay = Create(("path", "mail"), ("mailbox", "users/{recipient}"));
        await relay.AttemptAsync(NewEnvelope("s@example.org", "bob@Example.NET"), 0, CancellationToken.None);
        Assert.Single(NewFiles(Path.Combine(_root, "users", "bob@example.net")));
    }

    [Fact]
    public async Task AttemptAsync_CreateFalseMissingMailbox_Permanent550NoSuchMailbox()
    {
        Directory.CreateDirectory(_root);
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(_root, "alice", sub));
        }
        var relay = Create(("path", "mail"), ("create", "false"));
        var result = await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com", "nobody@example.com"), 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
        Assert.Equal(DeliveryOutcome.PermanentFailure, result.Recipients[1].Outcome);
        Assert.Equal("550 5.1.1 No such mailbox", result.Recipients[1].Reply.ToString());
        Assert.False(Directory.Exists(Path.Combine(_root, "nobody")));
    }

    [Fact]
    public async Task AttemptAsync_CreateFalseRootMissing_Transient451()
    {
        var relay = Create(("path", "mail"), ("create", "false"));
        var result = await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com"), 0, CancellationToken.None);
        Assert.Equal(DeliveryOutcome.TransientFailure, result.Recipients[0].Outcome);
        Assert.Equal("451 4.3.0 Local delivery failed, try again later", result.Recipients[0].Reply.ToString());
    }

    [Fact]
    public async Task AttemptAsync_RootIsAFile_Transient451()
    {
        await File.WriteAllTextAsync(_root, "not a directory");
        var relay = Create(("path", "mail"));
        var result = await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com"), 0, CancellationToken.None);
        Assert.Equal(DeliveryOutcome.TransientFailure, result.Recipients[0].Outcome);
        Assert.Equal(451, result.Recipients[0].Reply.Code);
        Assert.Equal("4.3.0", result.Recipients[0].Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_AbsolutePath_UsedAsIs()
    {
        var absolute = Path.Combine(_outer, "abs");
        var relay = Create(("path", absolute));
        await relay.AttemptAsync(NewEnvelope("s@example.org", "alice@example.com"), 0, CancellationToken.None);
        Assert.Single(NewFiles(Path.Combine(absolute, "alice")));
    }

    [Fact]
    public void Validate_UnknownKey_ThrowsWithKeyPath()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["maildir"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("maildir", ("path", "mail"), ("directory", "x"))));
        Assert.Equal("relay.local.directory", error.KeyPath);
    }

    [Fact]
    public void Validate_NoPath_ThrowsNamingPath()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["maildir"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("maildir")));
        Assert.Equal("relay.local", error.KeyPath);
        Assert.Contains("'path' is required", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{user}")]
    [InlineData("{localpart")]
    [InlineData("localpart}")]
    [InlineData("../{localpart}")]
    [InlineData("/var/mail/{localpart}")]
    [InlineData("{localpart}/")]
    [InlineData("")]
    public void Validate_BadMailboxTemplate_ThrowsAtMailboxKey(string template)
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["maildir"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("maildir", ("path", "mail"), ("mailbox", template))));
        Assert.Equal("relay.local.mailbox", error.KeyPath);
    }

    [Fact]
    public void Validate_BadCreate_ThrowsAtCreateKey()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["maildir"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("maildir", ("path", "mail"), ("create", "maybe"))));
        Assert.Equal("relay.local.create", error.KeyPath);
    }

    [Fact]
    public void Validate_ValidOptions_CreatesNothingOnDisk()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["maildir"];
        factory.Validate(Options("maildir", ("path", "mail"), ("mailbox", "{domain}/{localpart}"), ("create", "yes")));
        Assert.Empty(Directory.GetFileSystemEntries(_outer));
    }
}
