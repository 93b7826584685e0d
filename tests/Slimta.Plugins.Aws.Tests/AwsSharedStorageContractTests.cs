using Slimta.Abstractions.Queueing;
using Slimta.Testing.StorageContract;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>The shared aws storage (S3 + SQS) against the storage contract; a reopen is new clients on the same prefix and queue.</summary>
[Collection(AwsCollection.Name)]
public sealed class AwsSharedStorageContractTests(AwsFixture aws) : StorageContractTests
{
    private readonly Dictionary<IQueueStorage, (string Prefix, string Queue)> _names = [];

    protected override ValueTask<IQueueStorage> CreateStorageAsync()
    {
        var names = (AwsFixture.NewPrefix("s"), aws.NewQueue());
        var storage = aws.Create(TimeProvider.System, names.Item1, names.Item2);
        Assert.IsAssignableFrom<ISharedQueueStorage>(storage);
        lock (_names)
        {
            _names[storage] = names;
        }
        return ValueTask.FromResult(storage);
    }

    protected override ValueTask<IQueueStorage> ReopenAsync(IQueueStorage storage)
    {
        (string Prefix, string Queue) names;
        lock (_names)
        {
            names = _names[storage];
        }
        return ValueTask.FromResult(aws.Create(TimeProvider.System, names.Prefix, names.Queue));
    }
}
