using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using static Slimta.Plugins.Policies.Tests.PolicyTestKit;

using Slimta.Testing;

namespace Slimta.Plugins.Policies.Tests;

public sealed class SplitAndForwardPolicyTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static void AssertSameExceptRecipients(Envelope original, Envelope copy)
    {
        Assert.Equal(original.Sender, copy.Sender);
        Assert.Same(original.Message, copy.Message);
        Assert.Equal(original.Client, copy.Client);
        Assert.Equal(original.ReceivedAt, copy.ReceivedAt);
        Assert.Equal(original.SmtpUtf8, copy.SmtpUtf8);
        Assert.Equal(original.BodyType, copy.BodyType);
        Assert.NotSame(original.Recipients, copy.Recipients);
    }

    [Fact]
    public async Task RecipientSplit_ThreeRecipients_ThreeEnvelopesOneRecipientEach()
    {
        var envelope = Envelope("a@x.com", "b@y.com", "c@x.com");
        envelope.ReceivedAt = Now;
        envelope.BodyType = "8BITMIME";

        var result = await Create("recipient_split").ApplyAsync(envelope, Ct);

        Assert.NotNull(result);
        Assert.Equal(3, result.Count);
        Assert.Equal([["a@x.com"], ["b@y.com"], ["c@x.com"]], result.Select(e => e.Recipients.ToArray()));
        Assert.All(result, e => AssertSameExceptRecipients(envelope, e));
        Assert.Equal(Original, Bytes(result[2]));
    }

    [Fact]
    public async Task RecipientSplit_OneRecipient_ReturnsNull()
    {
        Assert.Null(await Create("recipient_split").ApplyAsync(Envelope("a@x.com"), Ct));
    }

    [Fact]
    public async Task RecipientDomainSplit_MixedCaseDomains_OneEnvelopePerDomainInFirstSeenOrder()
    {
        var envelope = Envelope("a@X.com", "b@y.com", "c@x.COM", "d@Y.com", "e", "f@z.org");

        var result = await Create("recipient_domain_split").ApplyAsync(envelope, Ct);

        Assert.NotNull(result);
        Assert.Equal(
            [["a@X.com", "c@x.COM"], ["b@y.com", "d@Y.com"], ["e"], ["f@z.org"]],
            result.Select(e => e.Recipients.ToArray()));
        Assert.All(result, e => AssertSameExceptRecipients(envelope, e));
    }

    [Fact]
    public async Task RecipientDomainSplit_OneDomainDifferentCase_ReturnsNull()
    {
        Assert.Null(await Create("recipient_domain_split").ApplyAsync(Envelope("a@x.com", "b@X.COM"), Ct));
    }

    private static Slimta.Abstractions.Queueing.IQueuePolicy Forward(params (string Pattern, string Replacement)[] mapping) =>
        Create("forward", ("mapping", Mapping(mapping)));

    [Fact]
    public async Task Forward_SeveralMappings_FirstChangingMappingWinsPerRecipient()
    {
        var policy = Forward(
            ("^postmaster@", "root@"),
            ("@example\\.com$", "@example.net"),
            ("^.*$", "catchall@example.org"));
        var envelope = Envelope("postmaster@example.com", "bob@example.com", "eve@other.org");

        Assert.Null(await policy.ApplyAsync(envelope, Ct));

        Assert.Equal(["root@example.com", "bob@example.net", "catchall@example.org"], envelope.Recipients);
    }

    [Fact]
    public async Task Forward_MatchWithoutChange_DoesNotStopLaterMappings()
    {
        var policy = Forward(("^(alice)@", "$1@"), ("alice", "alicia"));
        var envelope = Envelope("alice@example.com");
        await policy.ApplyAsync(envelope, Ct);
        Assert.Equal(["alicia@example.com"], envelope.Recipients);
    }

    [Fact]
    public async Task Forward_NoMappingMatches_RecipientsAndMessageUnchanged()
    {
        var envelope = Envelope("bob@example.com");
        var message = envelope.Message;
        await Forward(("@nowhere\\.test$", "@x")).ApplyAsync(envelope, Ct);
        Assert.Equal(["bob@example.com"], envelope.Recipients);
        Assert.Same(message, envelope.Message);
    }

    [Fact]
    public async Task Forward_PythonStyleBackreferences_Translated()
    {
        var policy = Forward(("^(\\w+)@old\\.com$", "\\1@new.com"), ("^(?<user>\\w+)@legacy\\.com$", "\\g<user>+legacy@new.com"));
        var envelope = Envelope("bob@old.com", "carol@legacy.com");
        await policy.ApplyAsync(envelope, Ct);
        Assert.Equal(["bob@new.com", "carol+legacy@new.com"], envelope.Recipients);
    }

    [Fact]
    public async Task Forward_CatastrophicPattern_TimesOutInsteadOfHanging()
    {
        var policy = Forward(("^(\\w+\\s?)*$", "x"));
        var envelope = Envelope(new string('a', 40) + "!");
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<System.Text.RegularExpressions.RegexMatchTimeoutException>(async () => await policy.ApplyAsync(envelope, Ct));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Forward_InvalidRegex_ConfigErrorAtMappingEntryPath()
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies["forward"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("forward", ("mapping", Mapping(("([a-z", "x"))))));
        Assert.Equal(PolicyPath + ".mapping.([a-z", error.KeyPath);
    }

    [Fact]
    public void Forward_NoMapping_ConfigErrorNamingMapping()
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies["forward"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("forward")));
        Assert.Equal(PolicyPath, error.KeyPath);
        Assert.Contains("'mapping'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_EmptyMapping_ConfigErrorAtMapping()
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies["forward"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("forward", ("mapping", Mapping()))));
        Assert.Equal(PolicyPath + ".mapping", error.KeyPath);
    }

    [Fact]
    public void Forward_UnknownKey_ConfigErrorAtKeyPath()
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies["forward"];
        var options = Options("forward", ("mapping", Mapping(("a", "b"))), ("mappings", new ConfigScalar(PolicyPath + ".mappings", "x")));
        var error = Assert.Throws<ConfigException>(() => factory.Validate(options));
        Assert.Equal(PolicyPath + ".mappings", error.KeyPath);
    }
}
