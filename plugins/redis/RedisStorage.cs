using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using StackExchange.Redis;

namespace Slimta.Plugins.Redis;

/// <summary>
/// A queue storage in Redis, shared by every process that points at the same database and
/// prefix. Keys (docs/operations.md, "Redis layout"): one hash per message <c>&lt;prefix&gt;&lt;id&gt;</c>,
/// the list <c>&lt;prefix&gt;queue</c> of new ids, the sorted set <c>&lt;prefix&gt;schedule</c> of
/// delayed ids by next-attempt unix ms and the sorted set <c>&lt;prefix&gt;claims</c> of claimed
/// ids by lease expiry unix ms. Every multi-key change is one Lua script, so a crash of any
/// process between two commands cannot leave a message unreachable.
/// <para>
/// Calls that fail because Redis is unreachable are retried a few times (Polly) and then fail,
/// which the engine turns into 451 at the edge; the multiplexer reconnects by itself.
/// </para>
/// </summary>
internal sealed class RedisStorage : ISharedQueueStorage, IAsyncDisposable
{
    /// <summary>The lease when the <c>lease</c> key is absent.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(60);

    private readonly ConnectionMultiplexer _redis;
    private readonly RedisStorageSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ResiliencePipeline _retry;
    private readonly RedisKey _queueKey;
    private readonly RedisKey _scheduleKey;
    private readonly RedisKey _claimsKey;
    private readonly RedisChannel _newChannel;
    private readonly SemaphoreSlim _newWork = new(0, 1);
    private readonly Lock _subscribeLock = new();
    private Task? _subscribed;

    private RedisStorage(ConnectionMultiplexer redis, RedisStorageSettings settings, TimeProvider time, ILogger log)
    {
        _redis = redis;
        _settings = settings;
        _time = time;
        _log = log;
        _queueKey = settings.Prefix + "queue";
        _scheduleKey = settings.Prefix + "schedule";
        _claimsKey = settings.Prefix + "claims";
        _newChannel = RedisChannel.Literal(settings.Prefix + "new");
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                // Short: the edge is holding an SMTP client while this runs. A longer outage
                // is answered with 451 and the client tries again later.
                ShouldHandle = new PredicateBuilder().Handle<RedisConnectionException>().Handle<RedisTimeoutException>(),
                MaxRetryAttempts = 3,
                Delay = TimeSpan.FromMilliseconds(100),
                BackoffType = DelayBackoffType.Exponential,
                OnRetry = a =>
                {
                    _log.LogWarning("queue={Queue} redis call failed ({Message}); retry {Attempt}", _settings.Name, a.Outcome.Exception?.Message, a.AttemptNumber + 1);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <inheritdoc />
    public TimeSpan Lease => _settings.Lease;

    /// <summary>The key prefix of this queue.</summary>
    public string Prefix => _settings.Prefix;

    /// <summary>Creates the storage; the connection is made (and remade) in the background.</summary>
    public static RedisStorage Connect(RedisStorageSettings settings, TimeProvider time, ILogger log)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { settings.Host, settings.Port } },
            DefaultDatabase = settings.Database,
            Password = settings.Password,
            // Keep trying in the background rather than failing startup: workers and edges may
            // start before Redis, and Redis may restart under them.
            AbortOnConnectFail = false,
            ConnectRetry = 3,
            ConnectTimeout = 2000,
            AsyncTimeout = 5000,
            SyncTimeout = 5000,
            // While disconnected, fail at once (then Polly retries briefly) instead of queueing
            // commands in a backlog that would keep an SMTP client waiting.
            BacklogPolicy = BacklogPolicy.FailFast,
            ClientName = "slimta",
        };
        var redis = ConnectionMultiplexer.Connect(options);
        return new RedisStorage(redis, settings, time, log);
    }

    private IDatabase Db => _redis.GetDatabase(_settings.Database);

    private RedisKey MessageKey(string id) => _settings.Prefix + id;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private ValueTask<T> RunAsync<T>(Func<IDatabase, Task<T>> call, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync(async (state, ct) =>
        {
            ct.ThrowIfCancellationRequested();
            return await state.Call(state.Db).ConfigureAwait(false);
        }, (Call: call, Db: Db), cancellationToken);

    public async ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(envelope);
        var fields = RedisEnvelopeFields.Encode(envelope, nextAttempt);
        var args = new List<RedisValue>(3 + (fields.Length * 2))
        {
            id,
            nextAttempt <= _time.GetUtcNow() ? "1" : "0",
            nextAttempt.ToUnixTimeMilliseconds(),
        };
        foreach (var f in fields)
        {
            args.Add(f.Name);
            args.Add(f.Value);
        }
        RedisKey[] keys = [_queueKey, _scheduleKey, MessageKey(id)];
        RedisValue[] values = [.. args];
        await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Write, keys, values), cancellationToken).ConfigureAwait(false);
        // A hint for idle workers; losing it only delays pickup until their next poll.
        await RunAsync(db => db.PublishAsync(_newChannel, id, CommandFlags.FireAndForget), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        RedisKey[] keys = [_scheduleKey, _claimsKey, MessageKey(id)];
        RedisValue[] values = [nextAttempt.ToUnixTimeMilliseconds(), id];
        var result = await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.SetNext, keys, values), cancellationToken).ConfigureAwait(false);
        if ((int)result == 0)
        {
            throw new KeyNotFoundException($"No message with id '{id}' is stored.");
        }
    }

    public async ValueTask<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        RedisKey[] keys = [MessageKey(id)];
        var result = await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Increment, keys), cancellationToken).ConfigureAwait(false);
        int count = (int)result;
        return count < 0 ? throw new KeyNotFoundException($"No message with id '{id}' is stored.") : count;
    }

    public async ValueTask SetRecipientsDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        if (recipientIndexes.Count == 0)
        {
            return;
        }
        RedisKey[] keys = [MessageKey(id)];
        RedisValue[] values = [.. recipientIndexes.Select(i => (RedisValue)(RedisEnvelopeFields.DeliveredPrefix + i.ToString(CultureInfo.InvariantCulture)))];
        var result = await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Delivered, keys, values), cancellationToken).ConfigureAwait(false);
        if ((int)result == 0)
        {
            throw new KeyNotFoundException($"No message with id '{id}' is stored.");
        }
    }

    public async IAsyncEnumerable<ScheduledMessage> LoadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // SCAN (never KEYS): a large queue must not block Redis. Only keys that are a prefix plus a
        // 32-hex id are messages; the queue/schedule/claims keys never match.
        var pattern = _settings.Prefix + string.Concat(Enumerable.Repeat("[0-9a-f]", 32));
        foreach (var server in _redis.GetServers())
        {
            if (server.IsReplica)
            {
                continue;
            }
            await foreach (var key in server.KeysAsync(_settings.Database, pattern, pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var next = await RunAsync(db => db.HashGetAsync(key, RedisEnvelopeFields.NextField), cancellationToken).ConfigureAwait(false);
                if (next.IsNull)
                {
                    continue; // removed since the scan saw it
                }
                var id = ((string)key!)[_settings.Prefix.Length..];
                yield return new ScheduledMessage(id, DateTimeOffset.FromUnixTimeMilliseconds((long)next));
            }
        }
    }

    public async ValueTask<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var key = MessageKey(id);
        var entries = await RunAsync(db => db.HashGetAllAsync(key), cancellationToken).ConfigureAwait(false);
        return entries.Length == 0 ? null : RedisEnvelopeFields.Decode(id, entries);
    }

    public async ValueTask RemoveAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var key = MessageKey(id);
        // A leftover id in the new list is harmless: a claim drops ids whose hash is gone.
        await RunAsync(async db =>
        {
            var tx = db.CreateTransaction();
            _ = tx.KeyDeleteAsync(key);
            _ = tx.SortedSetRemoveAsync(_scheduleKey, id);
            _ = tx.SortedSetRemoveAsync(_claimsKey, id);
            return await tx.ExecuteAsync().ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StoredMessage?> ClaimNextDueAsync(string workerId, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        while (true)
        {
            long now = NowMs;
            RedisKey[] keys = [_queueKey, _scheduleKey, _claimsKey];
            RedisValue[] values = [now, now + (long)lease.TotalMilliseconds, workerId, _settings.Prefix];
            var result = await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Claim, keys, values), cancellationToken).ConfigureAwait(false);
            if (result.IsNull)
            {
                return null;
            }
            var id = (string)result!;
            var stored = await GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                return stored;
            }
            // Removed between the claim and the read: look for the next one.
        }
    }

    public async ValueTask<bool> RenewAsync(string id, string workerId, TimeSpan lease, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [_claimsKey, MessageKey(id)];
        RedisValue[] values = [workerId, NowMs + (long)lease.TotalMilliseconds, id];
        var result = await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Renew, keys, values), cancellationToken).ConfigureAwait(false);
        return (int)result == 1;
    }

    public async ValueTask ReleaseAsync(string id, string workerId, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [_claimsKey, MessageKey(id), _scheduleKey];
        RedisValue[] values = [workerId, NowMs, id];
        await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Release, keys, values), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WaitForWorkAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        await EnsureSubscribedAsync().ConfigureAwait(false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(maxWait, _time, cts.Token);
        var signal = _newWork.WaitAsync(cts.Token);
        await Task.WhenAny(delay, signal).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task EnsureSubscribedAsync()
    {
        Task subscribed;
        lock (_subscribeLock)
        {
            _subscribed ??= _redis.GetSubscriber().SubscribeAsync(_newChannel, (_, _) => Signal());
            subscribed = _subscribed;
        }
        try
        {
            await subscribed.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            // Redis is down: subscribe again on the next wait; until then workers just poll.
            lock (_subscribeLock)
            {
                if (ReferenceEquals(_subscribed, subscribed))
                {
                    _subscribed = null;
                }
            }
        }
    }

    private void Signal()
    {
        try
        {
            if (_newWork.CurrentCount == 0)
            {
                _newWork.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.CloseAsync().ConfigureAwait(false);
        await _redis.DisposeAsync().ConfigureAwait(false);
        _newWork.Dispose();
    }
}
