using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

using Slimta.Testing;

namespace Slimta.Plugins.Local.Tests;

public sealed class BlackholeRelayTests
{
    [Fact]
    public async Task AttemptAsync_ThreeRecipients_AllDelivered250()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["blackhole"];
        var options = MaildirRelayTests.Options("blackhole");
        factory.Validate(options);
        var relay = factory.Create(options, new ComponentContext(new FakeTimeProvider(), NullLoggerFactory.Instance, "mx", "mx.example.com", "/"));

        var result = await relay.AttemptAsync(new Envelope("s@example.org", ["a@x.com", "b@x.com", "c@x.com"], RawMessage.FromString("\r\n")), 0, CancellationToken.None);

        Assert.Equal(3, result.Recipients.Count);
        Assert.True(result.AllDelivered);
        Assert.All(result.Recipients, r => Assert.Equal(250, r.Reply.Code));
        Assert.All(result.Recipients, r => Assert.Equal("2.0.0", r.Reply.EnhancedStatus));
    }

    [Fact]
    public void Validate_AnyOwnKey_ThrowsWithKeyPath()
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays["blackhole"];
        var error = Assert.Throws<ConfigException>(() => factory.Validate(MaildirRelayTests.Options("blackhole", ("path", "x"))));
        Assert.Equal("relay.local.path", error.KeyPath);
    }

    [Fact]
    public void Register_Always_AddsLocalRelays()
    {
        Assert.Equal(["maildir", "blackhole", "pipe", "maildrop", "dovecot"], RecordingRegistry.Of(new LocalPlugin()).Relays.Keys);
    }
}
