using System.Diagnostics;
using System.Text.Json.Nodes;
using Slimta.Host.Queueing;

namespace Slimta.Host.Control;

/// <summary>
/// Runs one <see cref="ControlRequest"/> against queue engines and writes the response lines
/// (<see cref="ControlJson"/>). The control socket uses it with the running server's engines;
/// <c>slimta queue --storage</c> uses it in the CLI's own process with engines over the storage
/// that were never started.
/// </summary>
public sealed class QueueAdminService
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    private readonly IReadOnlyDictionary<string, QueueEngine> _engines;
    private readonly IReadOnlyDictionary<string, string> _unavailable;

    /// <summary>Creates the service.</summary>
    /// <param name="engines">The queues it may change, by name.</param>
    /// <param name="unavailable">Other queue names with the reason they cannot be used here (a proxy stores nothing; a memory queue offline).</param>
    public QueueAdminService(IReadOnlyDictionary<string, QueueEngine> engines, IReadOnlyDictionary<string, string> unavailable)
    {
        _engines = engines;
        _unavailable = unavailable;
    }

    /// <summary>Runs <paramref name="request"/>; the last line written is always <c>ok</c> or <c>error</c>.</summary>
    public async Task ExecuteAsync(ControlRequest request, Func<JsonObject, ValueTask> write, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(request, write, cancellationToken).ConfigureAwait(false);
        }
        catch (QueueAdminException e)
        {
            await write(ControlJson.Error(e.Message)).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            // A storage refusing the id's format (the disk spool takes 32 hexadecimal digits): a
            // refusal of what the operator typed, not a failure, and without .NET's "(Parameter 'id')".
            var message = e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : e.Message;
            await write(ControlJson.Error(message)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A storage that fails (redis down, an unreadable spool file): say so, never crash the server.
            await write(ControlJson.Error($"{request.Command} failed: {e.Message}")).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(ControlRequest request, Func<JsonObject, ValueTask> write, CancellationToken cancellationToken)
    {
        switch (request.Command)
        {
            case "ping":
                await write(ControlJson.Ok("pong")).ConfigureAwait(false);
                return;
            case "list":
            {
                int count = 0;
                foreach (var engine in await SelectAsync(request.Queue, write).ConfigureAwait(false))
                {
                    int total = 0;
                    bool totalSent = false;
                    await foreach (var entry in engine.ListAsync(n => total = n, cancellationToken).ConfigureAwait(false))
                    {
                        if (!totalSent)
                        {
                            // The total is known once the ids are read, just before the first entry.
                            await write(ControlJson.Total(engine.Name, total)).ConfigureAwait(false);
                            totalSent = true;
                        }
                        await write(ControlJson.Message(entry, details: false)).ConfigureAwait(false);
                        count++;
                    }
                }
                await write(ControlJson.Ok($"{count} message{(count == 1 ? "" : "s")}", count)).ConfigureAwait(false);
                return;
            }
            case "flush" when request.Id is null:
            {
                int changed = 0;
                foreach (var engine in await SelectAsync(request.Queue, write).ConfigureAwait(false))
                {
                    var clock = Stopwatch.StartNew();
                    var last = TimeSpan.Zero;
                    changed += await engine.FlushAllAsync(
                        async (done, total) =>
                        {
                            if (done == total || clock.Elapsed - last >= ProgressInterval)
                            {
                                last = clock.Elapsed;
                                await write(ControlJson.Progress(engine.Name, done, total)).ConfigureAwait(false);
                            }
                        },
                        cancellationToken).ConfigureAwait(false);
                }
                await write(ControlJson.Ok($"{changed} message{(changed == 1 ? "" : "s")} due now", changed)).ConfigureAwait(false);
                return;
            }
            default:
                break;
        }

        var id = request.Id ?? throw new QueueAdminException($"{request.Command} needs a queue id");
        var (owner, found) = await FindAsync(id, request.Queue, cancellationToken).ConfigureAwait(false);
        switch (request.Command)
        {
            case "show":
            {
                var entry = await owner.GetEntryAsync(id, cancellationToken).ConfigureAwait(false)
                    ?? throw new QueueAdminException($"{id}: no such message in queue {owner.Name}");
                await write(ControlJson.Message(entry, details: true)).ConfigureAwait(false);
                await write(ControlJson.Ok("1 message", 1)).ConfigureAwait(false);
                break;
            }
            case "flush":
                await write(ControlJson.Message(await owner.FlushAsync(id, cancellationToken).ConfigureAwait(false), details: false)).ConfigureAwait(false);
                await write(ControlJson.Ok($"{id}: due now", 1)).ConfigureAwait(false);
                break;
            case "release":
                await write(ControlJson.Message(await owner.ReleaseAsync(id, cancellationToken).ConfigureAwait(false), details: false)).ConfigureAwait(false);
                // Releasing a message that was not held makes it due now all the same; say which it was.
                await write(ControlJson.Ok(found.State == "held" ? $"{id}: released, due now" : $"{id}: was not held; due now", 1)).ConfigureAwait(false);
                break;
            case "hold":
                await write(ControlJson.Message(await owner.HoldAsync(id, cancellationToken).ConfigureAwait(false), details: false)).ConfigureAwait(false);
                await write(ControlJson.Ok($"{id}: held", 1)).ConfigureAwait(false);
                break;
            case "delete":
                await write(ControlJson.Message(await owner.DeleteAsync(id, cancellationToken).ConfigureAwait(false), details: false)).ConfigureAwait(false);
                await write(ControlJson.Ok($"{id}: deleted", 1)).ConfigureAwait(false);
                break;
            case "bounce":
            {
                var (entry, bounceId) = await owner.BounceAsync(id, cancellationToken).ConfigureAwait(false);
                await write(ControlJson.Message(entry, details: false)).ConfigureAwait(false);
                await write(ControlJson.Ok(bounceId is null ? $"{id}: deleted (null sender: no bounce)" : $"{id}: bounced (bounce {bounceId})", 1, bounceId)).ConfigureAwait(false);
                break;
            }
            default:
                throw new QueueAdminException($"unknown command '{request.Command}'");
        }
    }

    /// <summary>The engines a list or flush covers; unavailable queues are named in a note (or an error when asked for by name).</summary>
    private async Task<IReadOnlyList<QueueEngine>> SelectAsync(string? queue, Func<JsonObject, ValueTask> write)
    {
        if (queue is not null)
        {
            return [Engine(queue)];
        }
        foreach (var (name, why) in _unavailable)
        {
            await write(ControlJson.Note($"queue {name} skipped: {why}")).ConfigureAwait(false);
        }
        if (_engines.Count == 0)
        {
            throw new QueueAdminException(_unavailable.Count == 0 ? "there are no queues" : "no queue can be used here: " + string.Join("; ", _unavailable.Select(u => $"{u.Key}: {u.Value}")));
        }
        return _engines.Values.ToList();
    }

    private QueueEngine Engine(string queue)
    {
        if (_engines.TryGetValue(queue, out var engine))
        {
            return engine;
        }
        if (_unavailable.TryGetValue(queue, out var why))
        {
            throw new QueueAdminException($"queue {queue}: {why}");
        }
        var names = _engines.Keys.Concat(_unavailable.Keys).Order(StringComparer.Ordinal);
        throw new QueueAdminException($"no queue '{queue}'; queues: {string.Join(", ", names)}");
    }

    /// <summary>The queue holding <paramref name="id"/> (queue ids are unique across queues).</summary>
    private async Task<(QueueEngine Engine, QueueEntry Entry)> FindAsync(string id, string? queue, CancellationToken cancellationToken)
    {
        var candidates = queue is null ? _engines.Values.ToList() : [Engine(queue)];
        foreach (var engine in candidates)
        {
            QueueEntry? entry;
            try
            {
                entry = await engine.GetEntryAsync(id, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not QueueAdminException && queue is null && candidates.Count > 1)
            {
                // A storage that cannot be read (or a storage that refuses this id's format) does not hide the others.
                continue;
            }
            if (entry is not null)
            {
                return (engine, entry);
            }
        }
        var where = queue is not null ? $"queue {queue}" : _engines.Count == 1 ? $"queue {_engines.Keys.First()}" : "any queue";
        var skipped = queue is null && _unavailable.Count > 0 ? $" (not searched: {string.Join(", ", _unavailable.Keys)})" : "";
        throw new QueueAdminException($"{id}: no such message in {where}{skipped}");
    }
}
