using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

using Slimta.Testing;

namespace Slimta.Plugins.Proxy.Tests;

public sealed class ProxyQueueTests
{
    private static readonly HashSet<string> HostKeys = new(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry" };

    private static ComponentContext Context => new(new FakeTimeProvider(), NullLoggerFactory.Instance, "mx", "mx.example.com", Path.GetTempPath());

    private static ComponentOptions Options(params (string Key, ConfigNode Value)[] entries) =>
        new(new ConfigMap("queue.proxied", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, e.Value))), HostKeys);

    private static ConfigScalar Scalar(string key, string value) => new("queue.proxied." + key, value);

    private static ComponentOptions ValidOptions => Options(("type", Scalar("type", "proxy")), ("relay", Scalar("relay", "out")));

    private static IQueueTypeFactory Factory()
    {
        var registry = new RecordingRegistry();
        new ProxyPlugin().Register(registry);
        return Assert.Single(registry.QueueTypes).Value;
    }

    private static IQueue CreateQueue(IRelay relay)
    {
        var factory = Factory();
        factory.Validate(ValidOptions);
        return factory.Create(ValidOptions, relay, Context);
    }

    private static Envelope NewEnvelope(params string[] recipients) =>
        new("sender@example.org", recipients, RawMessage.FromString("Subject: hi\r\n\r\nbody\r\n"));

    [Fact]
    public void Register_Always_AddsProxyQueueTypeOnly()
    {
        var registry = new RecordingRegistry();
        new ProxyPlugin().Register(registry);
        Assert.Equal(["proxy"], registry.QueueTypes.Keys);
        Assert.Equal(typeof(ProxyPlugin), typeof(ProxyPlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>()?.EntryType);
    }

    [Fact]
    public async Task EnqueueAsync_NextHopRejects550_ReturnsThat550NotAccepted()
    {
        var reply = new Reply(550, "5.1.1", "<nobody@example.com>: Recipient address rejected");
        var relay = new FixedRelay(e => RelayResult.Permanent(e.Recipients.Count, reply, "mx.example.com"));
        var envelope = NewEnvelope("nobody@example.com");

        var results = await CreateQueue(relay).EnqueueAsync(envelope, CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Same(reply, result.Reply);
        Assert.False(result.IsAccepted);
        Assert.Null(result.Id);
        Assert.Same(envelope, result.Envelope);
        var call = Assert.Single(relay.Calls);
        Assert.Same(envelope, call.Envelope);
        Assert.Equal(0, call.Attempts);
    }

    [Fact]
    public async Task EnqueueAsync_AllDelivered_ReturnsFirstDeliveredReplyWithId()
    {
        var first = new Reply(250, "2.0.0", "Ok: queued as ABC");
        var second = new Reply(250, "2.1.5", "Ok");
        var relay = new FixedRelay(_ => new RelayResult([RecipientResult.FromReply(first), RecipientResult.FromReply(second)]));
        var envelope = NewEnvelope("a@example.com", "b@example.com");

        var result = Assert.Single(await CreateQueue(relay).EnqueueAsync(envelope, CancellationToken.None));

        Assert.Same(first, result.Reply);
        Assert.True(result.IsAccepted);
        Assert.NotNull(result.Id);
        Assert.Matches("^[0-9a-f]{32}$", result.Id);
        Assert.Equal(result.Id, relay.Calls[0].IdAtCall);
    }

    [Fact]
    public async Task EnqueueAsync_PartialFailure_ReturnsFirstFailedRecipientsReply()
    {
        var ok = new Reply(250, "2.0.0", "Ok");
        var deferred = new Reply(451, "4.2.0", "Mailbox busy");
        var rejected = new Reply(550, "5.1.1", "No such user");
        var relay = new FixedRelay(_ => new RelayResult([RecipientResult.FromReply(ok), RecipientResult.FromReply(deferred), RecipientResult.FromReply(rejected)]));

        var result = Assert.Single(await CreateQueue(relay).EnqueueAsync(NewEnvelope("a@x.com", "b@x.com", "c@x.com"), CancellationToken.None));

        Assert.Same(deferred, result.Reply);
        Assert.False(result.IsAccepted);
    }

    [Fact]
    public async Task EnqueueAsync_RelayThrows_Returns451Enhanced430()
    {
        var relay = new FixedRelay(_ => throw new IOException("connection reset"));

        var result = Assert.Single(await CreateQueue(relay).EnqueueAsync(NewEnvelope("a@example.com"), CancellationToken.None));

        Assert.NotNull(result.Reply);
        Assert.Equal(451, result.Reply.Code);
        Assert.Equal("4.3.0", result.Reply.EnhancedStatus);
        Assert.False(result.IsAccepted);
        Assert.Single(relay.Calls);
    }

    [Fact]
    public async Task EnqueueAsync_CancelledWhileRelaying_Throws()
    {
        using var cts = new CancellationTokenSource();
        var relay = new FixedRelay(_ =>
        {
            cts.Cancel();
            throw new OperationCanceledException(cts.Token);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await CreateQueue(relay).EnqueueAsync(NewEnvelope("a@example.com"), cts.Token));
    }

    [Fact]
    public async Task EnqueueAsync_TwoMessages_GetDistinctIds()
    {
        var relay = new FixedRelay(e => RelayResult.Delivered(e.Recipients.Count, new Reply(250, "2.0.0", "Ok")));
        var queue = CreateQueue(relay);
        var a = Assert.Single(await queue.EnqueueAsync(NewEnvelope("a@example.com"), CancellationToken.None));
        var b = Assert.Single(await queue.EnqueueAsync(NewEnvelope("a@example.com"), CancellationToken.None));
        Assert.NotEqual(a.Id, b.Id);
    }

    [Fact]
    public void Create_NullRelay_ThrowsConfigExceptionAtRelayPath()
    {
        var error = Assert.Throws<ConfigException>(() => Factory().Create(ValidOptions, null, Context));
        Assert.Equal("queue.proxied.relay", error.KeyPath);
        Assert.StartsWith("queue.proxied.relay: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownKey_ThrowsWithKeyPath()
    {
        var options = Options(("type", Scalar("type", "proxy")), ("relay", Scalar("relay", "out")), ("envelope_dir", Scalar("envelope_dir", "/x")));
        var error = Assert.Throws<ConfigException>(() => Factory().Validate(options));
        Assert.Equal("queue.proxied.envelope_dir", error.KeyPath);
    }

    [Theory]
    [InlineData("retry")]
    [InlineData("bounce_queue")]
    public void Validate_HostKeyProxyCannotHonour_ThrowsWithKeyPath(string key)
    {
        var options = Options(("type", Scalar("type", "proxy")), ("relay", Scalar("relay", "out")), (key, Scalar(key, "x")));
        var error = Assert.Throws<ConfigException>(() => Factory().Validate(options));
        Assert.Equal("queue.proxied." + key, error.KeyPath);
    }

    [Fact]
    public void Validate_Policies_ThrowsWithKeyPath()
    {
        var policy = new ConfigMap("queue.proxied.policies.0", [new("type", new ConfigScalar("queue.proxied.policies.0.type", "add_date_header"))]);
        var options = Options(("type", Scalar("type", "proxy")), ("relay", Scalar("relay", "out")), ("policies", new ConfigList("queue.proxied.policies", [policy])));
        var error = Assert.Throws<ConfigException>(() => Factory().Validate(options));
        Assert.Equal("queue.proxied.policies", error.KeyPath);
    }

    [Fact]
    public void Validate_NoRelay_ThrowsNamingRelay()
    {
        var error = Assert.Throws<ConfigException>(() => Factory().Validate(Options(("type", Scalar("type", "proxy")))));
        Assert.Contains("relay", error.Message, StringComparison.Ordinal);
    }
}
