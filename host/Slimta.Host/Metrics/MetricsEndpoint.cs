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
    private MetricServer? _server;

    /// <summary>Creates the endpoint; <see cref="Start"/> opens it.</summary>
    public MetricsEndpoint(SlimtaMetrics metrics, MetricsConfig config)
    {
        _metrics = metrics;
        _config = config;
        // HttpListener matches a request's Host header against the prefix host: a wildcard
        // address must be the "+" prefix (every address), an IP literal binds and matches that address.
        var host = config.Interface is "0.0.0.0" or "::" or "[::]" or "*" ? "+"
            : IPAddress.TryParse(config.Interface.Trim('[', ']'), out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]"
            : config.Interface;
        Host = host;
        var display = host == "+" ? config.Interface : host;
        Url = new Uri($"http://{(display.Contains(':', StringComparison.Ordinal) && !display.StartsWith('[') ? $"[{display}]" : display)}:{config.Port}{config.Path}");
    }

    /// <summary>The scrape URL (for logs and tests).</summary>
    public Uri Url { get; }

    private string Host { get; }

    /// <summary>Starts listening. Throws <see cref="IOException"/> when the address cannot be bound.</summary>
    public void Start()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        _adapter = new PrometheusBridge(_metrics.Meter, registry);
        _metrics.PublishZeros();
        var path = _config.Path.Trim('/');
        _server = new MetricServer(Host, _config.Port, path.Length == 0 ? string.Empty : path + "/", registry);
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
