using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Configuration;
using Slimta.Host.Edge;
using Slimta.Host.Metrics;
using Slimta.Host.Plugins;
using Slimta.Host.Queueing;

namespace Slimta.Host.Server;

/// <summary>
/// The whole MTA built from one slimta.conf: relays, queues (the engine over each storage) and
/// edges. <see cref="Build"/> validates every component and creates them without opening a port,
/// so every configuration error stops startup first; <see cref="StartAsync"/> then loads stored
/// mail and opens the listeners. Tests start it in-process; the executables are thin wrappers.
/// </summary>
public sealed partial class SlimtaServer : IAsyncDisposable
{
    private readonly PluginCatalog _catalog;
    private readonly List<QueueEngine> _engines;
    private readonly ILogger _log;
    private readonly ComponentContext _context;
    private readonly SlimtaServerOptions _options;
    private IReadOnlyDictionary<string, IRelay> _relays;
    private bool _started;
    private bool _metricsStarted;

    /// <summary>The host's instruments (meter <c>Slimta</c>), one set per server.</summary>
    public SlimtaMetrics Metrics { get; } = new();

    /// <summary>The Prometheus endpoint (<c>process.NAME.metrics</c>), or null when not configured.</summary>
    public MetricsEndpoint? MetricsEndpoint { get; private set; }

    private SlimtaServer(
        SlimtaConfig config,
        ProcessConfig process,
        PluginCatalog catalog,
        IReadOnlyDictionary<string, IRelay> relays,
        IReadOnlyDictionary<string, IQueue> queues,
        IReadOnlyDictionary<string, IEdge> edges,
        List<QueueEngine> engines,
        ILogger log,
        ComponentContext context,
        SlimtaServerOptions options)
    {
        Config = config;
        Process = process;
        _catalog = catalog;
        _relays = relays;
        _context = context;
        _options = options;
        _running = config;
        Queues = queues;
        Edges = edges;
        _engines = engines;
        _log = log;
    }

    /// <summary>The configuration it was built from.</summary>
    public SlimtaConfig Config { get; }

    /// <summary>The process section in use.</summary>
    public ProcessConfig Process { get; }

    /// <summary>Relays by name (replaced by a reload that changes relays).</summary>
    public IReadOnlyDictionary<string, IRelay> Relays => _relays;

    /// <summary>Queues by name (a <see cref="QueueEngine"/> for every storage type).</summary>
    public IReadOnlyDictionary<string, IQueue> Queues { get; }

    /// <summary>Edges by name (none with <c>--no-edge</c>).</summary>
    public IReadOnlyDictionary<string, IEdge> Edges { get; }

    /// <summary>
    /// Validates every component of <paramref name="config"/>, then creates them. Opens no port and
    /// starts no delivery. Throws <see cref="ConfigException"/> naming the key path on any error.
    /// </summary>
    public static SlimtaServer Build(SlimtaConfig config, SlimtaServerOptions options)
    {
        var process = ResolveProcess(config, options);
        var loggers = options.Loggers ?? NullLoggerFactory.Instance;
        var log = loggers.CreateLogger("slimta");
        var hostname = process.Hostname ?? MachineHostName();
        var context = new ComponentContext(options.Time, loggers, hostname, process.Fqdn ?? hostname, config.Directory);

        var catalog = new PluginCatalog(config.Directory, loggers.CreateLogger("slimta.plugins"));
        try
        {
            catalog.RegisterBuiltIn(new BuiltInPlugin(), PluginCatalog.BuiltInSource);
            catalog.LoadDirectories(options.PluginDirectories ?? PluginDirectoriesOf(config));
            var registry = catalog.Registry;

            // 1. Validate everything (no side effects) so a bad config fails before anything exists.
            ComponentValidator.ValidateAll(config, registry);
            var retries = config.Queues.Values.ToDictionary(
                q => q.Name,
                q => q.Retry is { } r ? RetrySchedule.Create(r.Delay, r.Maximum ?? 0, r.Path, q.Options.Map["retry"]?.Location) : null);

            // 2. Create: relays, then queues (bounce queues wired once all exist), then edges.
            var relays = new Dictionary<string, IRelay>(StringComparer.Ordinal);
            if (!options.NoRelay)
            {
                foreach (var relay in config.Relays.Values)
                {
                    var created = registry.GetRelay(relay.Options).Create(relay.Options, context);
                    // Relay-time policies wrap the relay itself, so every queue type using it gets them.
                    relays[relay.Name] = relay.Policies.Count == 0
                        ? created
                        : new PolicyRelay(created, relay.Policies.Select(p => registry.GetRelayPolicy(p).Create(p, context)).ToList());
                }
            }
            var queues = new Dictionary<string, IQueue>(StringComparer.Ordinal);
            var engines = new List<QueueEngine>();
            foreach (var queue in config.Queues.Values)
            {
                var relay = queue.Relay is { } name && relays.TryGetValue(name, out var r) ? r : null;
                if (registry.IsStorage(queue.Type))
                {
                    var storage = registry.GetStorage(queue.Options).Create(queue.Options, context);
                    if (options.NoEdge && !options.NoRelay && relay is not null && storage is not ISharedQueueStorage)
                    {
                        // A worker on a process-local queue would deliver nothing ever accepted
                        // by the edges (they have their own copy): refuse rather than idle.
                        if (storage is IAsyncDisposable disposable)
                        {
                            // Best effort (startup is failing anyway): release a spool lock at once.
                            _ = disposable.DisposeAsync().AsTask();
                        }
                        throw queue.Options.Error("type", $"{queue.Type} queues cannot be shared between processes; slimta-worker (and slimta --no-edge) needs redis/aws/rackspace");
                    }
                    var policies = queue.Policies.Select(p => registry.GetQueuePolicy(p).Create(p, context)).ToList();
                    var bounces = new BounceBuilder(context.Fqdn, context.Hostname, queue.Bounce, options.Time);
                    var engine = new QueueEngine(queue.Name, storage, relay, policies, retries[queue.Name], bounces, options.Time, loggers.CreateLogger("slimta.queue." + queue.Name));
                    engines.Add(engine);
                    queues[queue.Name] = engine;
                }
                else
                {
                    queues[queue.Name] = registry.GetQueueType(queue.Options).Create(queue.Options, relay, context);
                }
            }
            foreach (var engine in engines)
            {
                var bounceName = config.Queues[engine.Name].BounceQueue;
                engine.BounceQueue = bounceName is null ? engine : queues[bounceName];
            }
            var edges = new Dictionary<string, IEdge>(StringComparer.Ordinal);
            if (!options.NoEdge)
            {
                foreach (var edge in config.Edges.Values)
                {
                    edges[edge.Name] = registry.GetEdge(edge.Options).Create(edge.Options, queues[edge.Queue], context);
                }
            }
            var server = new SlimtaServer(config, process, catalog, relays, queues, edges, engines, log, context, options);
            server.AttachMetrics();
            return server;
        }
        catch
        {
            catalog.Dispose();
            throw;
        }
    }

    /// <summary>Gives every queue engine and SMTP edge its instruments; creates the metrics endpoint when configured.</summary>
    private void AttachMetrics()
    {
        foreach (var engine in _engines)
        {
            engine.Metrics = Metrics.ForQueue(engine.Name, () => engine.ScheduledCount + engine.InFlightCount);
        }
        foreach (var (name, edge) in Edges)
        {
            if (edge is SmtpEdge smtp)
            {
                smtp.Telemetry.Attach(name, Metrics.ForEdge(name));
            }
        }
        if (Process.Metrics is { } metrics)
        {
            MetricsEndpoint = new MetricsEndpoint(Metrics, metrics);
        }
    }

    /// <summary>
    /// Opens the metrics endpoint and the listening sockets of every edge that can bind before it
    /// starts (<see cref="IBindableEdge"/>), without handling any mail: a server started as root
    /// calls this, switches to <c>process.NAME.user</c>, then calls <see cref="StartAsync"/>.
    /// </summary>
    public void BindListeners()
    {
        _started = true;
        StartMetricsEndpoint();
        foreach (var edge in Edges.Values)
        {
            if (edge is IBindableEdge bindable)
            {
                bindable.Bind();
            }
        }
    }

    /// <summary>Opens the metrics endpoint (unless <see cref="BindListeners"/> did), loads stored mail into every queue engine, then starts every edge.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _started = true;
        StartMetricsEndpoint();
        foreach (var engine in _engines)
        {
            await engine.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var (name, edge) in Edges)
        {
            await edge.StartAsync(cancellationToken).ConfigureAwait(false);
            _log.LogInformation("edge={Edge} started", name);
        }
    }

    private void StartMetricsEndpoint()
    {
        if (MetricsEndpoint is { } endpoint && !_metricsStarted)
        {
            endpoint.Start();
            _metricsStarted = true;
            _log.LogInformation("metrics endpoint listening on {Url}", endpoint.Url);
        }
    }

    /// <summary>
    /// Graceful stop: edges stop accepting and finish in-flight sessions, then queue engines stop
    /// scheduling and finish running attempts, all until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            return;
        }
        _started = false;
        await Task.WhenAll(Edges.Values.Select(e => SafeAsync(() => e.StopAsync(cancellationToken)))).ConfigureAwait(false);
        await Task.WhenAll(_engines.Select(e => SafeAsync(() => e.StopAsync(cancellationToken)))).ConfigureAwait(false);
        if (MetricsEndpoint is { } endpoint)
        {
            await SafeAsync(endpoint.StopAsync).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await StopAsync(timeout.Token).ConfigureAwait(false);
        }
        foreach (var edge in Edges.Values)
        {
            await edge.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().ConfigureAwait(false);
            if (engine.Storage is IAsyncDisposable storage)
            {
                await storage.DisposeAsync().ConfigureAwait(false);
            }
        }
        foreach (var queue in Queues.Values.Where(q => q is not QueueEngine).OfType<IAsyncDisposable>())
        {
            await queue.DisposeAsync().ConfigureAwait(false);
        }
        await DisposeReplacedRelaysAsync().ConfigureAwait(false);
        foreach (var relay in Relays.Values.OfType<IAsyncDisposable>())
        {
            await relay.DisposeAsync().ConfigureAwait(false);
        }
        _catalog.Dispose();
        Metrics.Dispose();
    }

    private async Task SafeAsync(Func<Task> stop)
    {
        try
        {
            await stop().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogError(e, "error while stopping");
        }
    }

    private static ProcessConfig ResolveProcess(SlimtaConfig config, SlimtaServerOptions options)
    {
        if (config.Processes.TryGetValue(options.ProcessName, out var process))
        {
            return process;
        }
        if (options.ProcessNameExplicit)
        {
            return config.GetProcess(options.ProcessName);
        }
        // Without -n, a config that names no section for this executable runs on defaults.
        return new ProcessConfig(options.ProcessName, false, null, null, null, null, null, null, null, LoggingConfig.Default,
            new ComponentOptions(ConfigMap.Empty(ConfigNode.Combine("process", options.ProcessName))));
    }

    /// <summary>The configured plugin directories, else <c>plugins/</c> next to the executable or one level up.</summary>
    public static IReadOnlyList<string> PluginDirectoriesOf(SlimtaConfig config)
    {
        if (config.PluginDirectories.Count > 0)
        {
            return config.PluginDirectories;
        }
        var baseDir = AppContext.BaseDirectory;
        return new[] { Path.Combine(baseDir, "plugins"), Path.GetFullPath(Path.Combine(baseDir, "..", "plugins")) }
            .Where(Directory.Exists)
            .Take(1)
            .ToList();
    }

    private static string MachineHostName()
    {
        try
        {
            return Dns.GetHostName();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return "localhost";
        }
    }
}
