using StackExchange.Redis;

namespace Slimta.Host.Edge.Lookups;

/// <summary>
/// A Redis lookup table: an address is found when the key made from the template exists (a string,
/// a hash, anything — python-slimta stored JSON or hashes there). The connection is opened on the
/// first lookup, so validating a configuration never connects.
/// </summary>
public sealed class RedisAddressLookup : IAddressLookup, IAsyncDisposable
{
    private readonly RedisLookupSettings _settings;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _connection;

    /// <summary>Creates the lookup; nothing is connected yet.</summary>
    public RedisAddressLookup(RedisLookupSettings settings) => _settings = settings;

    /// <summary>The settings.</summary>
    public RedisLookupSettings Settings => _settings;

    /// <inheritdoc />
    public async ValueTask<bool> ContainsAsync(string address, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var key = LookupKey.Expand(_settings.KeyTemplate, address);
        return await connection.GetDatabase(_settings.Database).KeyExistsAsync(key).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        _connecting.Dispose();
    }

    private async ValueTask<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _connection) is { } existing)
        {
            return existing;
        }
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is null)
            {
                int ms = (int)Math.Clamp(_settings.Timeout.TotalMilliseconds, 1, int.MaxValue);
                var options = new ConfigurationOptions
                {
                    EndPoints = { { _settings.Host, _settings.Port } },
                    Password = _settings.Password,
                    DefaultDatabase = _settings.Database,
                    // Keep reconnecting in the background: a Redis restart makes lookups fail
                    // (451, the client retries) instead of breaking the edge for good.
                    AbortOnConnectFail = false,
                    ConnectTimeout = ms,
                    SyncTimeout = ms,
                    AsyncTimeout = ms,
                    ClientName = "slimta-edge",
                };
                Volatile.Write(ref _connection, await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false));
            }
            return _connection!;
        }
        finally
        {
            _connecting.Release();
        }
    }
}
