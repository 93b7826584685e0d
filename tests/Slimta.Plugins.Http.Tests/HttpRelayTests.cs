using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;

namespace Slimta.Plugins.Http.Tests;

/// <summary>The http relay against a real HTTP server in the test.</summary>
public sealed class HttpRelayTests
{
    private const string Message = "From: a@x.test\r\nSubject: http\r\n\r\n.dot\r\ncaf\u00e9\r\n";

    private static IComponentFactory<IRelay> Factory()
    {
        var registry = new RecordingRegistry();
        new HttpPlugin().Register(registry);
        return registry.Relays["http"];
    }

    private static ComponentOptions Options(params (string Key, object Value)[] entries) => new(
        new ConfigMap("relay.web", entries.Select(e => KeyValuePair.Create(e.Key, (ConfigNode)new ConfigScalar("relay.web." + e.Key, Convert.ToString(e.Value, CultureInfo.InvariantCulture))))),
        new HashSet<string>(StringComparer.Ordinal) { "type" });

    private static IRelay Create(params (string Key, object Value)[] entries)
    {
        var factory = Factory();
        var options = Options(entries);
        factory.Validate(options);
        return factory.Create(options, new ComponentContext(TimeProvider.System, NullLoggerFactory.Instance, "testhost", "testhost.example", Path.GetTempPath()));
    }

    private static Envelope Envelope(params string[] recipients) =>
        new("s\u00e9nder@x.test", recipients, new RawMessage(Encoding.UTF8.GetBytes(Message))) { Id = "q1" };

    private static string Decode(string base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64));

    [Fact]
    public async Task AttemptAsync_Http200_DeliveredWithEnvelopeHeadersAndExactBody()
    {
        await using var hop = HttpNextHop.Answering(200);
        var relay = Create(("url", hop.Url));

        var result = await relay.AttemptAsync(Envelope("a@x.test", "b@y.test"), 0, CancellationToken.None);
        await ((IAsyncDisposable)relay).DisposeAsync();

        Assert.True(result.AllDelivered, string.Join(", ", result.Recipients));
        Assert.Equal($"127.0.0.1:{hop.Port}", result.RemoteHost);
        var request = Assert.Single(hop.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/deliver", request.Path);
        Assert.Equal("message/rfc822", request.ContentType);
        Assert.Equal(Encoding.UTF8.GetBytes(Message), request.Body);
        Assert.Equal("s\u00e9nder@x.test", Decode(Assert.Single(request.Headers["X-Envelope-Sender"])));
        // HTTP may fold repeated fields into one comma-separated field (RFC 9110 §5.3).
        var recipients = request.Headers["X-Envelope-Recipient"].SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["a@x.test", "b@y.test"], recipients.Select(Decode));
        Assert.Equal("testhost.example", Assert.Single(request.Headers["X-Ehlo"]));
    }

    [Fact]
    public async Task AttemptAsync_SmtpReplyHeader550_PermanentWithThatReply()
    {
        await using var hop = HttpNextHop.Answering(200, "550; message=\"5.7.1 Rejected by policy\"; command=\"DATA\"");
        var relay = Create(("url", hop.Url));

        var result = await relay.AttemptAsync(Envelope("a@x.test"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.PermanentFailure, only.Outcome);
        Assert.Equal("550 5.7.1 Rejected by policy", only.Reply.ToString());
    }

    [Fact]
    public async Task AttemptAsync_SmtpReplyHeader451OnHttp500_TransientWithThatReply()
    {
        await using var hop = HttpNextHop.Answering(500, "451 4.3.0 queue full");
        var relay = Create(("url", hop.Url));

        var result = await relay.AttemptAsync(Envelope("a@x.test"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("451 4.3.0 queue full", only.Reply.ToString());
    }

    [Fact]
    public async Task AttemptAsync_Http404WithoutSmtpReply_Permanent()
    {
        await using var hop = HttpNextHop.Answering(404);
        var relay = Create(("url", hop.Url));

        var result = await relay.AttemptAsync(Envelope("a@x.test", "b@x.test"), 0, CancellationToken.None);

        Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.PermanentFailure, r.Outcome));
        Assert.Contains("404", result.Recipients[0].Reply.Text);
    }

    [Fact]
    public async Task AttemptAsync_Http503WithoutSmtpReply_Transient()
    {
        await using var hop = HttpNextHop.Answering(503);
        var relay = Create(("url", hop.Url));

        var result = await relay.AttemptAsync(Envelope("a@x.test"), 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.TransientFailure, Assert.Single(result.Recipients).Outcome);
    }

    [Fact]
    public async Task AttemptAsync_NextHopNeverAnswers_TransientAfterTimeout()
    {
        var hang = new TaskCompletionSource();
        await using var hop = HttpNextHop.Start(async context =>
        {
            await hang.Task;
            context.Response.Close();
        });
        var relay = Create(("url", hop.Url), ("timeout", "0.5"));
        var started = DateTime.UtcNow;

        var result = await relay.AttemptAsync(Envelope("a@x.test"), 0, CancellationToken.None);
        hang.SetResult();

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.2", only.Reply.EnhancedStatus);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AttemptAsync_ConnectionRefused_Transient()
    {
        var relay = Create(("url", $"http://127.0.0.1:{FreePort.Next()}/x"), ("timeout", "5"));

        var result = await relay.AttemptAsync(Envelope("a@x.test"), 0, CancellationToken.None);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.TransientFailure, only.Outcome);
        Assert.Equal("4.4.1", only.Reply.EnhancedStatus);
    }

    [Fact]
    public async Task AttemptAsync_TwoMessages_BothPostedOnePerAttempt()
    {
        await using var hop = HttpNextHop.Answering((int)HttpStatusCode.Accepted);
        var relay = Create(("url", hop.Url));

        var first = await relay.AttemptAsync(Envelope("a@x.test"), 0, CancellationToken.None);
        var second = await relay.AttemptAsync(Envelope("b@x.test"), 0, CancellationToken.None);

        Assert.True(first.AllDelivered && second.AllDelivered);
        Assert.Equal(2, hop.Requests.Count);
    }

    [Theory]
    [InlineData("ftp://example.test/")]
    [InlineData("not a url")]
    public void Validate_UrlNotHttp_ErrorNamesUrl(string url)
    {
        var error = Assert.Throws<ConfigException>(() => Factory().Validate(Options(("url", url))));

        Assert.Contains("relay.web.url", error.Message);
    }

    [Fact]
    public void Validate_UrlMissing_Error()
    {
        var error = Assert.Throws<ConfigException>(() => Factory().Validate(Options(("timeout", "3"))));

        Assert.Contains("url", error.Message);
    }

    [Fact]
    public void Register_HttpPlugin_RegistersTheHttpRelayAndTheHttpEdge()
    {
        var registry = new RecordingRegistry();
        new HttpPlugin().Register(registry);
        Assert.Equal("http", Assert.Single(registry.Relays).Key);
        Assert.IsType<HttpEdgeFactory>(Assert.Single(registry.Edges).Value);
    }
}
