using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Slimta.Host.Logging;
using Slimta.Testing;

namespace Slimta.Host.Tests.Logging;

/// <summary>The line formats, through a real provider writing to a file.</summary>
public sealed class LogLineFormatterTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("slimta-log");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 21, 25, 20, 506, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private List<string> Log(LogFormat format, LogLevel level, Action<ILogger> log)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".log");
        using (var provider = new SlimtaLoggerProvider(format, level, LogOutput.File(path), _time))
        {
            log(provider.CreateLogger("slimta.queue.outbound"));
        }
        return [.. File.ReadAllLines(path)];
    }

    [Fact]
    public void Json_NamedEvent_TypedFieldsInSnakeCase()
    {
        var next = new DateTimeOffset(2026, 11, 28, 22, 25, 20, TimeSpan.Zero);
        var line = Assert.Single(Log(LogFormat.Json, LogLevel.Information, l => l.Deferred("outbound", "abc", "b@remote.test", "mx.remote.test:25", "451 4.3.0 later", 2, next)));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal("2026-11-28T21:25:20.506Z", root.GetProperty("time").GetString());
        Assert.Equal("info", root.GetProperty("level").GetString());
        Assert.Equal("deferred", root.GetProperty("event").GetString());
        Assert.Equal("slimta.queue.outbound", root.GetProperty("category").GetString());
        Assert.Equal("outbound", root.GetProperty("queue").GetString());
        Assert.Equal("abc", root.GetProperty("id").GetString());
        Assert.Equal("b@remote.test", root.GetProperty("recipient").GetString());
        Assert.Equal("mx.remote.test:25", root.GetProperty("relay").GetString());
        Assert.Equal("451 4.3.0 later", root.GetProperty("reply").GetString());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("attempt").ValueKind);
        Assert.Equal("2026-11-28T22:25:20.0000000+00:00", root.GetProperty("next").GetString());
        Assert.Contains("next=2026-11-28T22:25:20.0000000+00:00", root.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Text_NamedEvent_KeyValueFieldsQuotedWhenNeeded()
    {
        var line = Assert.Single(Log(LogFormat.Text, LogLevel.Information, l => l.Delivered("outbound", "abc", "b@remote.test", null, "250 2.0.0 Ok: queued as \"X\"", 1, 12)));
        Assert.Equal("2026-11-28T21:25:20.506Z info delivered queue=outbound id=abc recipient=b@remote.test relay=- reply=\"250 2.0.0 Ok: queued as \\\"X\\\"\" attempt=1 delay_ms=12", line);
    }

    [Fact]
    public void BothFormats_NewlinesInValues_StayOneLine()
    {
        const string evil = "250 ok\r\nfake line\n";
        var text = Log(LogFormat.Text, LogLevel.Information, l => l.LogInformation("plain message with {Value}", evil));
        Assert.Equal("2026-11-28T21:25:20.506Z info slimta.queue.outbound: plain message with 250 ok\\r\\nfake line\\n", Assert.Single(text));
        var textEvent = Log(LogFormat.Text, LogLevel.Information, l => l.Failed("q", "id", "r@x", "relay", evil, 1));
        Assert.Contains("reply=\"250 ok\\r\\nfake line\\n\"", Assert.Single(textEvent), StringComparison.Ordinal);
        var json = Assert.Single(Log(LogFormat.Json, LogLevel.Information, l => l.LogInformation("plain message with {Value}", evil)));
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(evil, doc.RootElement.GetProperty("value").GetString());
        Assert.False(doc.RootElement.TryGetProperty("event", out _));
    }

    [Fact]
    public void Json_Exception_FullTextInOneField()
    {
        var error = new InvalidOperationException("relay broke");
        var line = Assert.Single(Log(LogFormat.Json, LogLevel.Information, l => l.RelayError(error, "outbound", "abc", "transient")));
        using var doc = JsonDocument.Parse(line);
        Assert.Equal("warn", doc.RootElement.GetProperty("level").GetString());
        Assert.Equal("relay_error", doc.RootElement.GetProperty("event").GetString());
        Assert.Equal("transient", doc.RootElement.GetProperty("error_class").GetString());
        Assert.StartsWith("System.InvalidOperationException: relay broke", doc.RootElement.GetProperty("exception").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Level_BelowMinimum_NothingWritten()
    {
        Assert.Empty(Log(LogFormat.Json, LogLevel.Warning, l =>
        {
            l.Accepted("outbound", "abc", "a@b", 1, 10, "127.0.0.1");
            l.LogDebug("debug {Value}", 1);
        }));
        Assert.Single(Log(LogFormat.Json, LogLevel.Warning, l => l.RelayError(new IOException("x"), "q", "i", "transient")));
    }

    [Fact]
    public void Json_PlaceholderNamedLikeAnEnvelopeField_DoesNotOverwriteIt()
    {
        var line = Assert.Single(Log(LogFormat.Json, LogLevel.Information, l => l.LogInformation("at {Time}: {Message}", "noon", "hello")));
        using var doc = JsonDocument.Parse(line);
        Assert.Equal("2026-11-28T21:25:20.506Z", doc.RootElement.GetProperty("time").GetString());
        Assert.Equal("noon", doc.RootElement.GetProperty("field_time").GetString());
        Assert.Equal("at noon: hello", doc.RootElement.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("QueueId", "queue_id")]
    [InlineData("DurationMs", "duration_ms")]
    [InlineData("TLSVersion", "tls_version")]
    [InlineData("id", "id")]
    [InlineData("EndPoint", "end_point")]
    [InlineData("Recipient2Count", "recipient2_count")]
    public void FieldNames_PascalCase_BecomesSnakeCase(string placeholder, string field) =>
        Assert.Equal(field, FieldNames.Of(placeholder));
}
