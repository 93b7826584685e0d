using System.Net;
using Prometheus;
using Slimta.Host.Configuration;

namespace Slimta.Host.Metrics;

/// <summary>
/// The optional Prometheus scrape endpoint (<c>process.NAME.metrics</c>): an HTTP listener bound
/// to exactly the configured address and port that serves the <see cref="SlimtaMetrics"/> of one
/// server in the Prometheus text format.
/// <para>
/// Why prometheus-net (8.x) and not the OpenTelemetry Prometheus exporter: the OpenTelemetry
/// HttpListener exporter is a pre-release whose own README says it is meant for the development
/// inner loop with no plan to make it production ready, while prometheus-net is a stable,
/// long-maintained Prometheus client (exposition format, metric types, label handling) whose
/// <see cref="MetricServer"/> is a stand-alone HttpListener endpoint. The instruments reach it
/// through <see cref="PrometheusBridge"/>, which listens to this server's meter only (so each
/// test server in one process exports its own counts); a private registry keeps prometheus-net's
/// default process and event-counter metrics out.
/// </para>
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private readonly SlimtaMetrics _metrics;
    private readonly MetricsConfig _config;
    private IDisposable? _adapter;
    private readonly string _prefixHost;
    private MetricServer? _server;

    /// <summary>Creates the endpoint; <see cref="Start"/> opens it.</summary>
    public MetricsEndpoint(SlimtaMetrics metrics, MetricsConfig config)
    {
        _metrics = metrics;
        _config = config;
        // The binder normalised the interface to an IP literal. HttpListener matches a request's
        // Host header against the prefix's host: an address binds and matches exactly that
        // address; every address (0.0.0.0, ::) must be the "+" prefix.
        var address = IPAddress.TryParse(config.Interface, out var parsed) ? parsed : IPAddress.Loopback;
        var literal = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        _prefixHost = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "+" : literal;
        Url = new Uri($"http://{literal}:{config.Port}{config.Path}");
    }

    /// <summary>The scrape URL (for logs and tests).</summary>
    public Uri Url { get; }


    /// <summary>Starts listening. Throws <see cref="IOException"/> when the address cannot be bound.</summary>
    public void Start()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        _adapter = new PrometheusBridge(_metrics.Meter, registry);
        _metrics.PublishZeros();
        var path = _config.Path.Trim('/');
        _server = new MetricServer(_prefixHost, _config.Port, path.Length == 0 ? string.Empty : path + "/", registry);
        try
        {
            _server.Start();
        }
        catch (HttpListenerException e)
        {
            _adapter.Dispose();
            _adapter = null;
            _server = null;
            throw new IOException($"the metrics endpoint {Url} could not be opened: {e.Message}", e);
        }
    }

    /// <summary>Stops listening.</summary>
    public async Task StopAsync()
    {
        if (_server is { } server)
        {
            _server = null;
            await server.StopAsync().ConfigureAwait(false);
            server.Dispose();
        }
        _adapter?.Dispose();
        _adapter = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
