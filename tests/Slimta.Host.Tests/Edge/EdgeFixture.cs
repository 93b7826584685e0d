using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Edge;

namespace Slimta.Host.Tests.Edge;

/// <summary>An <see cref="SmtpEdge"/> on 127.0.0.1 with a system-chosen port, a recording queue and captured logs.</summary>
internal sealed class EdgeFixture : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;

    private EdgeFixture(SmtpEdge edge, RecordingQueue queue, ListLoggerProvider logs, FakeTimeProvider time, ILoggerFactory loggers)
    {
        Edge = edge;
        Queue = queue;
        Logs = logs;
        Time = time;
        _loggers = loggers;
    }

    public SmtpEdge Edge { get; }

    public RecordingQueue Queue { get; }

    public ListLoggerProvider Logs { get; }

    public FakeTimeProvider Time { get; }

    public System.Net.EndPoint EndPoint => Edge.BoundEndPoints[0];

    public static async Task<EdgeFixture> StartAsync(Dictionary<string, object?>? extra = null)
    {
        var entries = new Dictionary<string, object?>
        {
            ["listener"] = new Dictionary<string, object?> { ["interface"] = "127.0.0.1", ["port"] = 0 },
            ["max_size"] = 1048576,
        };
        foreach (var (key, value) in extra ?? [])
        {
            entries[key] = value;
        }
        var logs = new ListLoggerProvider();
        var loggers = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var context = new ComponentContext(time, loggers, "mx", "mx.example.test", Directory.GetCurrentDirectory());
        var queue = new RecordingQueue();
        var edge = (SmtpEdge)new SmtpEdgeFactory().Create(ConfigBuilder.Edge(entries), queue, context);
        await edge.StartAsync(CancellationToken.None);
        return new EdgeFixture(edge, queue, logs, time, loggers);
    }

    public Task<RawSmtpClient> ConnectAsync() => RawSmtpClient.ConnectAsync(EndPoint);

    public async ValueTask DisposeAsync()
    {
        await Edge.DisposeAsync();
        _loggers.Dispose();
    }
}
