using Slimta.Abstractions.Queueing;
using Slimta.Testing.StorageContract;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>The plain storage (no queue_name) against the shared storage contract; a reopen is a new storage (new token) on the same container.</summary>
public sealed class RackspaceStorageContractTests(FakeServerFixture fixture) : StorageContractTests, IClassFixture<FakeServerFixture>
{
    private readonly Dictionary<IQueueStorage, string> _containers = [];

    protected override ValueTask<IQueueStorage> CreateStorageAsync()
    {
        var container = RackspaceOptions.NewName("c");
        var storage = RackspaceOptions.Create(fixture.Server, container);
        lock (_containers)
        {
            _containers[storage] = container;
        }
        return ValueTask.FromResult<IQueueStorage>(storage);
    }

    protected override ValueTask<IQueueStorage> ReopenAsync(IQueueStorage storage)
    {
        string container;
        lock (_containers)
        {
            container = _containers[storage];
        }
        return ValueTask.FromResult<IQueueStorage>(RackspaceOptions.Create(fixture.Server, container));
    }
}
