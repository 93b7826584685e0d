using System.Diagnostics.Metrics;
using System.Reflection;

namespace Slimta.Host.Metrics;

/// <summary>
/// The host's instruments, on one <see cref="System.Diagnostics.Metrics.Meter"/> named
/// <c>Slimta</c> per server (so two servers in one test process never mix their counts; any
/// <c>MeterListener</c>, <c>dotnet-counters monitor --counters Slimta</c> or the Prometheus
/// endpoint of <see cref="MetricsEndpoint"/> reads them). The queue engines and SMTP edges get
/// a <see cref="QueueMetrics"/> / <see cref="EdgeMetrics"/> with their tags prepared once; with
/// nothing listening an instrument call is a cheap no-op. Names and meaning: docs/operations.md.
/// </summary>
public sealed class SlimtaMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Slimta";

    /// <summary>
    /// Histogram buckets of <c>slimta.delivery.duration</c>, in seconds: from a local next hop
    /// (milliseconds) to retried mail (hours, up to the usual 5-day bounce).
    /// </summary>
    public static readonly double[] DurationBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 5 * 24 * 3600];

    /// <summary>How each instrument is exported to Prometheus: the metric name and the tag keys that become its labels.</summary>
    internal static readonly IReadOnlyDictionary<string, Export> Exports = new Dictionary<string, Export>(StringComparer.Ordinal)
    {
        ["slimta.connections"] = new("slimta_connections_total", ["edge"]),
        ["slimta.connections.active"] = new("slimta_connections_active", ["edge"]),
        ["slimta.sessions.rejected"] = new("slimta_sessions_rejected_total", ["edge", "reason"]),
        ["slimta.smtp.rejections"] = new("slimta_smtp_rejections_total", ["edge", "stage"]),
        ["slimta.messages.accepted"] = new("slimta_messages_accepted_total", ["queue"]),
        ["slimta.messages.delivered"] = new("slimta_messages_delivered_total", ["queue"]),
        ["slimta.messages.deferred"] = new("slimta_messages_deferred_total", ["queue"]),
        ["slimta.messages.bounced"] = new("slimta_messages_bounced_total", ["queue"]),
        ["slimta.delivery.duration"] = new("slimta_delivery_duration_seconds", ["queue"]),
        ["slimta.relay.errors"] = new("slimta_relay_errors_total", ["queue", "class"]),
        ["slimta.queue.depth"] = new("slimta_queue_depth", ["queue"]),
    };

    private readonly Lock _lock = new();
    private readonly List<(KeyValuePair<string, object?> Tag, Func<int> Depth)> _depths = [];
    private readonly List<QueueMetrics> _queues = [];
    private readonly List<EdgeMetrics> _edges = [];

    /// <summary>Creates the meter and its instruments.</summary>
    public SlimtaMetrics()
    {
        var version = typeof(SlimtaMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];
        Meter = new Meter(MeterName, version);
        Connections = Meter.CreateCounter<long>("slimta.connections", "{connection}", "SMTP connections accepted by an edge (including refused ones)");
        ConnectionsActive = Meter.CreateUpDownCounter<long>("slimta.connections.active", "{connection}", "SMTP connections open now");
        SessionsRejected = Meter.CreateCounter<long>("slimta.sessions.rejected", "{session}", "SMTP sessions refused before the greeting (max_connections, DNSBL)");
        Rejections = Meter.CreateCounter<long>("slimta.smtp.rejections", "{command}", "MAIL, RCPT or DATA refused by the edge's rules (senders, recipients, SPF, spam)");
        Accepted = Meter.CreateCounter<long>("slimta.messages.accepted", "{message}", "Messages stored by a queue (after policies; a split message counts once per part)");
        Delivered = Meter.CreateCounter<long>("slimta.messages.delivered", "{recipient}", "Recipients the next hop accepted");
        Deferred = Meter.CreateCounter<long>("slimta.messages.deferred", "{recipient}", "Recipients that failed transiently and wait for a retry");
        Bounced = Meter.CreateCounter<long>("slimta.messages.bounced", "{recipient}", "Recipients that failed permanently (bounced, or dropped for the null sender)");
        DeliveryDuration = Meter.CreateHistogram<double>(
            "slimta.delivery.duration",
            "s",
            "Time from acceptance by the edge to delivery, per delivered recipient",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        RelayErrors = Meter.CreateCounter<long>("slimta.relay.errors", "{attempt}", "Delivery attempts with failures, by class: connect (no session: connection, DNS, TLS), transient (4xx), permanent (5xx)");
        Meter.CreateObservableGauge("slimta.queue.depth", ObserveDepths, "{message}", "Messages this process holds in the queue: waiting for an attempt or being attempted");
    }

    /// <summary>The meter (one per server).</summary>
    public Meter Meter { get; }

    internal Counter<long> Connections { get; }

    internal UpDownCounter<long> ConnectionsActive { get; }

    internal Counter<long> SessionsRejected { get; }

    internal Counter<long> Rejections { get; }

    internal Counter<long> Accepted { get; }

    internal Counter<long> Delivered { get; }

    internal Counter<long> Deferred { get; }

    internal Counter<long> Bounced { get; }

    internal Histogram<double> DeliveryDuration { get; }

    internal Counter<long> RelayErrors { get; }

    /// <summary>The instruments of one queue; <paramref name="depth"/> is read when the depth gauge is observed.</summary>
    public QueueMetrics ForQueue(string name, Func<int> depth)
    {
        var metrics = new QueueMetrics(this, name);
        lock (_lock)
        {
            _depths.Add((metrics.Tag, depth));
            _queues.Add(metrics);
        }
        return metrics;
    }

    /// <summary>The instruments of one edge.</summary>
    public EdgeMetrics ForEdge(string name)
    {
        var metrics = new EdgeMetrics(this, name);
        lock (_lock)
        {
            _edges.Add(metrics);
        }
        return metrics;
    }

    /// <summary>
    /// Adds 0 to every counter of every queue and edge, so a listener that just started (the
    /// metrics endpoint) shows each series at 0 before the first message, not nothing.
    /// </summary>
    public void PublishZeros()
    {
        lock (_lock)
        {
            foreach (var queue in _queues)
            {
                queue.PublishZeros();
            }
            foreach (var edge in _edges)
            {
                edge.PublishZeros();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Meter.Dispose();

    /// <summary>A Prometheus name and label keys.</summary>
    internal sealed record Export(string Name, string[] Labels);

    private IEnumerable<Measurement<int>> ObserveDepths()
    {
        (KeyValuePair<string, object?> Tag, Func<int> Depth)[] depths;
        lock (_lock)
        {
            depths = [.. _depths];
        }
        var measurements = new Measurement<int>[depths.Length];
        for (int i = 0; i < depths.Length; i++)
        {
            measurements[i] = new Measurement<int>(depths[i].Depth(), depths[i].Tag);
        }
        return measurements;
    }
}
