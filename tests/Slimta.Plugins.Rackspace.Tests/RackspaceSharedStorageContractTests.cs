using Slimta.Abstractions.Queueing;
using Slimta.Testing.StorageContract;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>The shared storage (with queue_name) against the storage contract: posting notices must not change what is stored.</summary>
public sealed class RackspaceSharedStorageContractTests(FakeServerFixture fixture) : StorageContractTests, IClassFixture<FakeServerFixture>
{
    private readonly Dictionary<IQueueStorage, string> _names = [];

    protected override ValueTask<IQueueStorage> CreateStorageAsync()
    {
        var name = RackspaceOptions.NewName("s");
        var storage = RackspaceOptions.Create(fixture.Server, name, name);
        Assert.IsAssignableFrom<ISharedQueueStorage>(storage);
        lock (_names)
        {
            _names[storage] = name;
        }
        return ValueTask.FromResult<IQueueStorage>(storage);
    }

    protected override ValueTask<IQueueStorage> ReopenAsync(IQueueStorage storage)
    {
        string name;
        lock (_names)
        {
            name = _names[storage];
        }
        return ValueTask.FromResult<IQueueStorage>(RackspaceOptions.Create(fixture.Server, name, name));
    }
}
