using Slimta.Abstractions.Queueing;
using Slimta.Testing.StorageContract;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>The local aws storage (S3 only, no queue_name) against the storage contract; a reopen is a new client on the same prefix.</summary>
[Collection(AwsCollection.Name)]
public sealed class AwsStorageContractTests(AwsFixture aws) : StorageContractTests
{
    private readonly Dictionary<IQueueStorage, string> _prefixes = [];

    protected override ValueTask<IQueueStorage> CreateStorageAsync()
    {
        var prefix = AwsFixture.NewPrefix("c");
        var storage = aws.Create(TimeProvider.System, prefix, null);
        lock (_prefixes)
        {
            _prefixes[storage] = prefix;
        }
        return ValueTask.FromResult(storage);
    }

    protected override ValueTask<IQueueStorage> ReopenAsync(IQueueStorage storage)
    {
        string prefix;
        lock (_prefixes)
        {
            prefix = _prefixes[storage];
        }
        return ValueTask.FromResult(aws.Create(TimeProvider.System, prefix, null));
    }
}
