using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Configuration;
using Slimta.Host.Control;
using Slimta.Host.Plugins;
using Slimta.Host.Queueing;

namespace Slimta.Host.Server;

/// <summary>
/// Reload (SIGHUP) and queue administration of a running server.
/// <para>
/// What a reload applies (docs/operations.md "Signals"): relays (type and options, relay
/// policies) and, for queues over a storage, their queue policies, <c>retry</c>, <c>bounce</c>
/// and <c>bounce_queue</c> — in effect for the next message and the next attempt; running
/// attempts finish with what they started with, and a replaced relay is disposed once they
/// have. Everything else needs a restart and is reported as such, not applied: the
/// <c>process</c> section, <c>plugins</c>, edges (listeners stay open and keep their rules and
/// certificates), queues added or removed, a queue's type or storage options, a queue gaining or
/// losing its relay, and relays used by <c>proxy</c>/<c>custom</c> queues (those hold them).
/// The new configuration is validated in full first; any error leaves everything as it was.
/// </para>
/// </summary>
public sealed partial class SlimtaServer
{
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly List<Task> _replacedRelays = [];

    /// <summary>The configuration whose runtime-changeable parts are in effect (the started one until a reload applies something).</summary>
    private SlimtaConfig _running;

    /// <summary>Queues over a storage, by name: the engines the queue admin commands work on.</summary>
    public IReadOnlyDictionary<string, QueueEngine> Engines =>
        Queues.Where(q => q.Value is QueueEngine).ToDictionary(q => q.Key, q => (QueueEngine)q.Value, StringComparer.Ordinal);

    /// <summary>
    /// The queue admin service over this server's queues. <paramref name="offline"/>: the server
    /// was built only to reach the storages (<c>slimta queue --storage</c>), so memory queues,
    /// which exist only inside the running server, are refused.
    /// </summary>
    public QueueAdminService CreateAdminService(bool offline)
    {
        var engines = new Dictionary<string, QueueEngine>(StringComparer.Ordinal);
        var unavailable = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, queue) in Queues)
        {
            var type = Config.Queues[name].Type;
            if (queue is not QueueEngine engine)
            {
                unavailable[name] = $"a {type} queue stores no messages";
            }
            else if (offline && type == "memory")
            {
                unavailable[name] = "a memory queue exists only inside the running server, which does not answer on its control socket (no offline mode)";
            }
            else
            {
                engines[name] = engine;
            }
        }
        return new QueueAdminService(engines, unavailable);
    }

    /// <summary>
    /// Validates <paramref name="config"/> as startup and reload do, without creating anything
    /// (no port, no spool lock): <c>slimta --check</c>. Throws <see cref="ConfigException"/>.
    /// </summary>
    public static void Validate(SlimtaConfig config, SlimtaServerOptions options)
    {
        ResolveProcess(config, options);
        using var catalog = new PluginCatalog(config.Directory, (options.Loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("slimta.plugins"));
        catalog.RegisterBuiltIn(new BuiltInPlugin(), PluginCatalog.BuiltInSource);
        catalog.LoadDirectories(options.PluginDirectories ?? PluginDirectoriesOf(config));
        ComponentValidator.ValidateAll(config, catalog.Registry);
        foreach (var q in config.Queues.Values)
        {
            if (q.Retry is { } r)
            {
                RetrySchedule.Create(r.Delay, r.Maximum ?? 0, r.Path, q.Options.Map["retry"]?.Location);
            }
        }
    }

    /// <summary>
    /// Validates <paramref name="next"/> in full and applies what can change at runtime (see the
    /// class remarks). Throws <see cref="ConfigException"/> when it is not valid; nothing changed then.
    /// </summary>
    public async Task<ReloadReport> ReloadAsync(SlimtaConfig next, CancellationToken cancellationToken)
    {
        await _reloadLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Reload(next);
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    private ReloadReport Reload(SlimtaConfig next)
    {
        var registry = _catalog.Registry;
        var process = ResolveProcess(next, _options);
        ComponentValidator.ValidateAll(next, registry);

        var restart = new List<string>();
        var applied = new List<string>();
        var started = Config;
        if (!process.Equals(Process))
        {
            restart.Add($"process.{process.Name}: process settings are read at startup");
        }
        if (!next.PluginDirectories.SequenceEqual(started.PluginDirectories))
        {
            restart.Add("plugins: plugins are loaded at startup");
        }
        foreach (var name in started.Edges.Keys.Union(next.Edges.Keys))
        {
            if (!Equals(started.Edges.GetValueOrDefault(name), next.Edges.GetValueOrDefault(name)))
            {
                restart.Add($"edge.{name}: edges keep their listeners, rules and certificates until a restart");
            }
        }

        // Queues: which ones can take the new settings.
        var queueChanges = new List<(QueueEngine Engine, QueueConfig Config)>();
        var pinnedRelays = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in started.Queues.Keys.Union(next.Queues.Keys))
        {
            var before = started.Queues.GetValueOrDefault(name);
            var after = next.Queues.GetValueOrDefault(name);
            if (before is null || after is null)
            {
                restart.Add($"queue.{name}: {(before is null ? "added" : "removed")}");
                continue;
            }
            if (Queues[name] is not QueueEngine engine)
            {
                // proxy/custom queues hold their relay: neither they nor it can change.
                if (before.Relay is { } held)
                {
                    pinnedRelays.Add(held);
                }
                if (!before.Equals(after))
                {
                    restart.Add($"queue.{name}: {before.Type} queues are built at startup");
                }
                continue;
            }
            if (before.Type != after.Type || !SameStorage(before.Options, after.Options))
            {
                restart.Add($"queue.{name}: the storage (type and its options) is opened at startup");
            }
            if ((before.Relay is null) != (after.Relay is null))
            {
                restart.Add($"queue.{name}.relay: a queue gaining or losing its relay");
                continue;
            }
            var current = _running.Queues[name];
            if (!(current.Relay == after.Relay && current.BounceQueue == after.BounceQueue && current.Bounce == after.Bounce
                && current.Retry == after.Retry && ConfigEquality.Same(current.Policies, after.Policies))
                || (after.Relay is { } r && !Equals(_running.Relays.GetValueOrDefault(r), next.Relays.GetValueOrDefault(r))))
            {
                queueChanges.Add((engine, after));
            }
            if (after.BounceQueue is { } bq && Queues.GetValueOrDefault(bq) is null)
            {
                restart.Add($"queue.{name}.bounce_queue: queue {bq} does not run yet");
            }
        }

        // Relays: build the changed ones (a failure here leaves everything as it was).
        var newRelays = new Dictionary<string, IRelay>(StringComparer.Ordinal);
        var relays = new Dictionary<string, IRelay>(_relays, StringComparer.Ordinal);
        try
        {
            if (!_options.NoRelay)
            {
                foreach (var relay in next.Relays.Values)
                {
                    if (Equals(_running.Relays.GetValueOrDefault(relay.Name), relay))
                    {
                        continue;
                    }
                    if (pinnedRelays.Contains(relay.Name))
                    {
                        restart.Add($"relay.{relay.Name}: used by a proxy or custom queue");
                        continue;
                    }
                    var created = registry.GetRelay(relay.Options).Create(relay.Options, _context);
                    newRelays[relay.Name] = relay.Policies.Count == 0
                        ? created
                        : new PolicyRelay(created, relay.Policies.Select(p => registry.GetRelayPolicy(p).Create(p, _context)).ToList());
                    relays[relay.Name] = newRelays[relay.Name];
                    applied.Add($"relay.{relay.Name}");
                }
            }

            // Everything the queues need is created before any of it is applied.
            var settings = new List<(QueueEngine Engine, QueueConfig Config, IRelay? Relay, List<IQueuePolicy> Policies, RetrySchedule? Retry, BounceBuilder Bounces)>();
            foreach (var (engine, queue) in queueChanges)
            {
                if (queue.BounceQueue is { } bq && Queues.GetValueOrDefault(bq) is null)
                {
                    continue;
                }
                var relay = queue.Relay is { } rn && relays.TryGetValue(rn, out var rr) ? rr : null;
                if (queue.Relay is not null && relay is null && !_options.NoRelay)
                {
                    restart.Add($"queue.{queue.Name}.relay: relay {queue.Relay} does not run yet");
                    continue;
                }
                if (_options.NoRelay)
                {
                    relay = null;
                }
                var policies = queue.Policies.Select(p => registry.GetQueuePolicy(p).Create(p, _context)).ToList();
                var retry = queue.Retry is { } rc ? RetrySchedule.Create(rc.Delay, rc.Maximum ?? 0, rc.Path, queue.Options.Map["retry"]?.Location) : null;
                var bounces = new BounceBuilder(_context.Fqdn, _context.Hostname, queue.Bounce, _options.Time);
                settings.Add((engine, queue, relay, policies, retry, bounces));
            }

            foreach (var (engine, queue, relay, policies, retry, bounces) in settings)
            {
                engine.Reconfigure(relay, policies, retry, bounces);
                engine.BounceQueue = queue.BounceQueue is { } bq ? Queues[bq] : engine;
                applied.Add($"queue.{queue.Name}");
            }
        }
        catch
        {
            foreach (var relay in newRelays.Values.OfType<IAsyncDisposable>())
            {
                _ = relay.DisposeAsync().AsTask();
            }
            throw;
        }

        // The replaced relays go once the attempts that may use them have ended.
        // A queue whose change needs a restart keeps its old relay: that one stays.
        var replaced = newRelays.Keys.Where(_relays.ContainsKey).Select(n => _relays[n])
            .Where(old => !_engines.Any(e => ReferenceEquals(e.CurrentRelay, old)))
            .ToList();
        _relays = relays;
        if (replaced.Count > 0)
        {
            var engines = _engines.ToList();
            lock (_replacedRelays)
            {
                _replacedRelays.Add(Task.Run(async () =>
                {
                    await Task.WhenAll(engines.Select(e => e.RunningAttemptsAsync())).ConfigureAwait(false);
                    foreach (var relay in replaced.OfType<IAsyncDisposable>())
                    {
                        try
                        {
                            await relay.DisposeAsync().ConfigureAwait(false);
                        }
                        catch (Exception e)
                        {
                            _log.LogWarning(e, "a replaced relay could not be disposed");
                        }
                    }
                }));
            }
        }

        // What is applied now becomes the base of the next comparison; the rest is compared
        // with the started configuration again, so "restart needed" is said until a restart.
        _running = _running with
        {
            Relays = next.Relays.Where(r => !pinnedRelays.Contains(r.Key) || _running.Relays.ContainsKey(r.Key))
                .ToDictionary(r => r.Key, r => pinnedRelays.Contains(r.Key) ? _running.Relays[r.Key] : r.Value, StringComparer.Ordinal),
            Queues = _running.Queues.ToDictionary(
                q => q.Key,
                q => next.Queues.TryGetValue(q.Key, out var n) && applied.Contains($"queue.{q.Key}") ? n : q.Value,
                StringComparer.Ordinal),
        };
        return new ReloadReport(applied, restart);
    }

    /// <summary>The storage part of a queue's options: everything but the keys the host reads (and a reload may apply).</summary>
    private static bool SameStorage(ComponentOptions a, ComponentOptions b)
    {
        var keys = a.Map.Keys.Union(b.Map.Keys).Where(k => !HostKeys.Queue.Contains(k) || k is "type" or "factory");
        return keys.All(k => Equals(a.Map[k], b.Map[k]));
    }

    private async Task DisposeReplacedRelaysAsync()
    {
        Task[] pending;
        lock (_replacedRelays)
        {
            pending = [.. _replacedRelays];
        }
        await Task.WhenAll(pending).ConfigureAwait(false);
    }
}
