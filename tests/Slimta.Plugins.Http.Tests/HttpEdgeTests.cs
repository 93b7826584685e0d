using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;

namespace Slimta.Plugins.Http.Tests;

public sealed class HttpEdgeTests : IAsyncLifetime
{
    private static readonly HashSet<string> HostKeys = new(["type", "queue"], StringComparer.Ordinal);
    private readonly HttpEdgeRecordingQueue _queue = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
    private HttpEdge? _edge;

    private HttpEdge Edge => _edge ?? throw new InvalidOperationException("not started");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_edge is not null)
        {
            await _edge.DisposeAsync();
        }
        _http.Dispose();
    }

    internal static ComponentOptions Options(params (string Key, ConfigNode Value)[] extra)
    {
        var entries = new List<KeyValuePair<string, ConfigNode>>
        {
            new("type", new ConfigScalar("edge.web.type", "http")),
            new("queue", new ConfigScalar("edge.web.queue", "main")),
        };
        entries.AddRange(extra.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, e.Value)));
        return new ComponentOptions(new ConfigMap("edge.web", entries), HostKeys);
    }

    internal static ConfigMap Map(string path, params (string Key, string Value)[] entries) =>
        new(path, entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar(path + "." + e.Key, e.Value))));

    private async Task StartAsync(params (string Key, ConfigNode Value)[] extra)
    {
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
            var listener = Map("edge.web.listener", ("interface", "127.0.0.1"), ("port", port));
            var edge = (HttpEdge)new HttpEdgeFactory().Create(Options([("listener", listener), ("max_size", new ConfigScalar("edge.web.max_size", "1000")), .. extra]), _queue,
                new ComponentContext(_time, NullLoggerFactory.Instance, "mx", "mx.example.test", Directory.GetCurrentDirectory()));
            try
            {
                await edge.StartAsync(CancellationToken.None);
                _edge = edge;
                return;
            }
            catch (HttpListenerException ex)
            {
                // FreePort's port was taken again before HttpListener bound it.
                last = ex;
                await edge.DisposeAsync();
            }
        }
        throw last!;
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private HttpRequestMessage Post(string body, string? sender = "a@client.test", string[]? recipients = null, string contentType = "message/rfc822")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Edge.Prefix + "deliver") { Content = new ByteArrayContent(Encoding.Latin1.GetBytes(body)) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (sender is not null)
        {
            request.Headers.Add("X-Envelope-Sender", B64(sender));
        }
        foreach (var recipient in recipients ?? ["b@remote.test"])
        {
            request.Headers.Add("X-Envelope-Recipient", B64(recipient));
        }
        request.Headers.Add("X-Ehlo", "web.client.test");
        return request;
    }

    private static string SmtpReply(HttpResponseMessage response) => Assert.Single(response.Headers.GetValues("X-Smtp-Reply"));

    [Fact]
    public async Task Post_Message_Is204WithQueueIdAndExactEnvelope()
    {
        await StartAsync();
        var body = "Subject: hi\r\n\r\ncaf\u00c3\u00a9 \u00ff\r\n.leading dot\r\n";
        using var response = await _http.SendAsync(Post(body, "a@client.test", ["b@remote.test", "c@remote.test"]));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("q1", Assert.Single(response.Headers.GetValues("X-Queue-Id")));
        Assert.Equal("250 2.6.0 q1 Message accepted", SmtpReply(response));
        var envelope = Assert.Single(_queue.Envelopes);
        Assert.Equal("a@client.test", envelope.Sender);
        Assert.Equal(["b@remote.test", "c@remote.test"], envelope.Recipients);
        Assert.Equal(Encoding.Latin1.GetBytes(body), envelope.Message.Bytes.ToArray());
        Assert.Equal("HTTP", envelope.Client.Protocol);
        Assert.Equal("web.client.test", envelope.Client.EhloName);
        Assert.Equal(IPAddress.Loopback, envelope.Client.Address);
        Assert.Equal(_time.GetUtcNow(), envelope.ReceivedAt);
    }

    [Fact]
    public async Task Post_NullSenderAndCommaSeparatedRecipients_AreAccepted()
    {
        await StartAsync();
        var request = Post("Subject: x\r\n\r\n", sender: string.Empty, recipients: []);
        request.Headers.Add("X-Envelope-Recipient", B64("b@remote.test") + "," + B64("c@remote.test"));
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var envelope = Assert.Single(_queue.Envelopes);
        Assert.True(envelope.IsNullSender);
        Assert.Equal(["b@remote.test", "c@remote.test"], envelope.Recipients);
    }

    [Theory]
    [InlineData(451, "4.3.2", HttpStatusCode.ServiceUnavailable)]
    [InlineData(550, "5.7.1", HttpStatusCode.InternalServerError)]
    public async Task Post_QueueRefuses_MapsReplyToStatusAndHeader(int code, string status, HttpStatusCode expected)
    {
        await StartAsync();
        _queue.Answer = e => [QueueResult.Failed(e, new Reply(code, status, "nope"))];
        using var response = await _http.SendAsync(Post("Subject: x\r\n\r\n"));
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal($"{code} {status} nope", SmtpReply(response));
    }

    [Fact]
    public async Task Post_QueueThrows_Is503With451()
    {
        await StartAsync();
        _queue.Answer = _ => throw new IOException("disk full");
        using var response = await _http.SendAsync(Post("Subject: x\r\n\r\n"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.StartsWith("451 4.3.0 ", SmtpReply(response));
    }

    [Fact]
    public async Task Post_WithoutCredentials_Is401AndNothingIsQueued()
    {
        await StartAsync(("credentials", Map("edge.web.credentials", ("username", "web"), ("password", "pa:ss"))));
        using (var response = await _http.SendAsync(Post("Subject: x\r\n\r\n")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.StartsWith("535 5.7.8", SmtpReply(response));
        }
        var wrong = Post("Subject: x\r\n\r\n");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Basic", B64("web:wrong"));
        using (var response = await _http.SendAsync(wrong))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Empty(_queue.Envelopes);
        var right = Post("Subject: x\r\n\r\n");
        right.Headers.Authorization = new AuthenticationHeaderValue("Basic", B64("web:pa:ss"));
        using (var response = await _http.SendAsync(right))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
        Assert.Equal("web", Assert.Single(_queue.Envelopes).Client.AuthenticatedUser);
    }

    [Fact]
    public async Task Post_BadRequests_AreRefusedWithReasons()
    {
        await StartAsync();
        using (var r = await _http.SendAsync(Post("Subject: x\r\n\r\n", contentType: "text/plain")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        }
        using (var r = await _http.SendAsync(Post("Subject: x\r\n\r\n", sender: null)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.StartsWith("501 5.1.7", SmtpReply(r));
        }
        using (var r = await _http.SendAsync(Post("Subject: x\r\n\r\n", recipients: [])))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.StartsWith("554 5.5.1", SmtpReply(r));
        }
        using (var r = await _http.SendAsync(Post("Subject: x\r\n\r\n", recipients: ["b@remote.test>\r\nX: y"])))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }
        using (var r = await _http.SendAsync(Post("Subject: x\r\n\r\n" + new string('x', 2000))))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
            Assert.StartsWith("552 5.3.4", SmtpReply(r));
        }
        using (var r = await _http.GetAsync(Edge.Prefix))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
        }
        Assert.Empty(_queue.Envelopes);
    }

    [Fact]
    public async Task Post_ChunkedBodyOverMaxSize_Is413()
    {
        await StartAsync();
        var request = Post(string.Empty);
        var content = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes("Subject: x\r\n\r\n" + new string('y', 5000))));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("message/rfc822");
        request.Content = content;
        request.Headers.TransferEncodingChunked = true;
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(_queue.Envelopes);
    }

    [Fact]
    public async Task StopAsync_ClosesTheListener()
    {
        await StartAsync();
        await Edge.StopAsync(CancellationToken.None);
        await Assert.ThrowsAsync<HttpRequestException>(() => _http.SendAsync(Post("Subject: x\r\n\r\n")));
    }

    [Theory]
    [InlineData("port", "0")]
    [InlineData("interface", "example.test")]
    public void Validate_BadListener_NamesItsPath(string key, string value)
    {
        var listener = key == "port" ? Map("edge.web.listener", ("port", value)) : Map("edge.web.listener", ("port", "8025"), (key, value));
        var ex = Assert.Throws<ConfigException>(() => new HttpEdgeFactory().Validate(Options(("listener", listener))));
        Assert.Equal("edge.web.listener." + key, ex.KeyPath);
    }

    [Fact]
    public void Validate_UnknownKey_IsError()
    {
        var ex = Assert.Throws<ConfigException>(() => new HttpEdgeFactory().Validate(Options(
            ("listener", Map("edge.web.listener", ("port", "8025"))), ("tls", Map("edge.web.tls", ("certfile", "c.pem"))))));
        Assert.Equal("edge.web.tls", ex.KeyPath);
    }

    [Fact]
    public void Validate_CredentialsWithoutPassword_IsError()
    {
        var ex = Assert.Throws<ConfigException>(() => new HttpEdgeFactory().Validate(Options(
            ("listener", Map("edge.web.listener", ("port", "8025"))), ("credentials", Map("edge.web.credentials", ("username", "web"))))));
        Assert.Equal("edge.web.credentials", ex.KeyPath);
        Assert.Contains("password", ex.Message);
    }
}
