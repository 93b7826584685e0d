using System.Net;
using System.Net.Sockets;
using System.Text;
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
/// long-maintained Prometheus client (exposition format, metric types, label handling). The
/// HTTP side is a few lines over a <see cref="TcpListener"/> rather than prometheus-net's
/// HttpListener-based MetricServer: HttpListener bound to one address only answers requests whose
/// Host header is that address, so <c>curl http://localhost:9465/metrics</c> and a Prometheus
/// target given by host name got 404. The instruments reach it
/// through <see cref="PrometheusBridge"/>, which listens to this server's meter only (so each
/// test server in one process exports its own counts); a private registry keeps prometheus-net's
/// default process and event-counter metrics out.
/// </para>
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly SlimtaMetrics _metrics;
    private readonly MetricsConfig _config;
    private readonly IPAddress _address;
    private IDisposable? _adapter;
    private CollectorRegistry? _registry;
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _loop;

    /// <summary>Creates the endpoint; <see cref="Start"/> opens it.</summary>
    public MetricsEndpoint(SlimtaMetrics metrics, MetricsConfig config)
    {
        _metrics = metrics;
        _config = config;
        // The binder normalised the interface to an IP literal.
        _address = IPAddress.TryParse(config.Interface, out var parsed) ? parsed : IPAddress.Loopback;
        var literal = _address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{_address}]" : _address.ToString();
        Url = new Uri($"http://{literal}:{config.Port}{config.Path}");
    }

    /// <summary>The scrape URL (for logs and tests).</summary>
    public Uri Url { get; }

    /// <summary>Starts listening. Throws <see cref="IOException"/> when the address cannot be bound.</summary>
    public void Start()
    {
        _registry = Prometheus.Metrics.NewCustomRegistry();
        _adapter = new PrometheusBridge(_metrics.Meter, _registry);
        _metrics.PublishZeros();
        var listener = new TcpListener(_address, _config.Port);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            listener.Dispose();
            _adapter.Dispose();
            _adapter = null;
            throw new IOException($"the metrics endpoint {Url} could not be opened: {e.Message}", e);
        }
        _listener = listener;
        _stop = new CancellationTokenSource();
        _loop = AcceptAsync(listener, _stop.Token);
    }

    /// <summary>Stops listening.</summary>
    public async Task StopAsync()
    {
        if (_listener is { } listener)
        {
            _listener = null;
            await _stop!.CancelAsync().ConfigureAwait(false);
            listener.Stop();
            listener.Dispose();
            try
            {
                await _loop!.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
            _stop.Dispose();
        }
        _adapter?.Dispose();
        _adapter = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            _ = ServeAsync(client, cancellationToken);
        }
    }

    /// <summary>One HTTP/1.x request, answered and closed (Prometheus scrapes accept <c>Connection: close</c>).</summary>
    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream, timeout.Token).ConfigureAwait(false);
            if (head is null)
            {
                await WriteAsync(stream, "400 Bad Request", "text/plain; charset=utf-8", "bad request\n"u8.ToArray(), true, timeout.Token).ConfigureAwait(false);
                return;
            }
            var parts = head.Split(' ');
            var method = parts.Length == 3 ? parts[0] : string.Empty;
            var target = parts.Length == 3 ? parts[1] : string.Empty;
            var path = target.Split('?', 2)[0];
            bool head_ = method == "HEAD";
            if (method is not "GET" and not "HEAD")
            {
                await WriteAsync(stream, "405 Method Not Allowed", "text/plain; charset=utf-8", "GET only\n"u8.ToArray(), !head_, timeout.Token, "Allow: GET, HEAD\r\n").ConfigureAwait(false);
                return;
            }
            if (path != _config.Path && path != _config.Path.TrimEnd('/') + "/")
            {
                await WriteAsync(stream, "404 Not Found", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"metrics are at {_config.Path}\n"), !head_, timeout.Token).ConfigureAwait(false);
                return;
            }
            using var body = new MemoryStream();
            await _registry!.CollectAndExportAsTextAsync(body, timeout.Token).ConfigureAwait(false);
            await WriteAsync(stream, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body.ToArray(), !head_, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The scraper went away or was too slow: nothing to do.
        }
    }

    /// <summary>The request line, once the whole head (up to the empty line) is read; null when malformed or over 16 KiB.</summary>
    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16384];
        int length = 0;
        while (length < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }
            length += n;
            var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var text = Encoding.ASCII.GetString(buffer, 0, end);
                return text.Split("\r\n", 2)[0];
            }
        }
        return null;
    }

    private static async Task WriteAsync(NetworkStream stream, string status, string contentType, byte[] body, bool withBody, CancellationToken cancellationToken, string extraHeaders = "")
    {
        var head = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        if (withBody)
        {
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
