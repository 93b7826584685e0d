using Slimta.Abstractions.Queueing;
using Slimta.Testing.StorageContract;

namespace Slimta.Plugins.Redis.Tests;

/// <summary>The redis storage against the shared storage contract; a reopen is a second connection on the same prefix.</summary>
public sealed class RedisStorageContractTests(RedisFixture redis) : StorageContractTests, IClassFixture<RedisFixture>
{
    private readonly Dictionary<IQueueStorage, string> _prefixes = [];

    protected override ValueTask<IQueueStorage> CreateStorageAsync()
    {
        var prefix = "c" + Guid.NewGuid().ToString("N")[..8] + ":";
        var storage = redis.Create(TimeProvider.System, prefix);
        lock (_prefixes)
        {
            _prefixes[storage] = prefix;
        }
        return ValueTask.FromResult<IQueueStorage>(storage);
    }

    protected override ValueTask<IQueueStorage> ReopenAsync(IQueueStorage storage)
    {
        string prefix;
        lock (_prefixes)
        {
            prefix = _prefixes[storage];
        }
        return ValueTask.FromResult<IQueueStorage>(redis.Create(TimeProvider.System, prefix));
    }
}
