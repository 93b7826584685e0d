using Slimta.Abstractions.Queueing;
using Slimta.Testing;
using Slimta.Testing.StorageContract;

namespace Slimta.Plugins.Disk.Tests;

/// <summary>The disk storage against the shared storage contract; every read-back also runs on a reopened storage.</summary>
public sealed class DiskStorageContractTests : StorageContractTests, IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("disk-contract");
    private readonly Dictionary<IQueueStorage, string> _roots = new(ReferenceEqualityComparer.Instance);

    protected override ValueTask<IQueueStorage> CreateStorageAsync()
    {
        var dir = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var storage = DiskTestKit.Create(dir);
        _roots[storage] = dir;
        return ValueTask.FromResult<IQueueStorage>(storage);
    }

    protected override async ValueTask<IQueueStorage> ReopenAsync(IQueueStorage storage)
    {
        // One process per spool (the lock file): close the first instance, as a restart would.
        var dir = _roots[storage];
        await ((DiskStorage)storage).DisposeAsync();
        var reopened = DiskTestKit.Create(dir);
        _roots[reopened] = dir;
        return reopened;
    }

    public void Dispose() => Directory.Delete(_root, true);
}
