using Slimta.Abstractions.Queueing;
using Slimta.Plugins.Memory;
using Slimta.Testing.StorageContract;

namespace Slimta.Plugins.Memory.Tests;

/// <summary>The memory storage against the shared storage contract.</summary>
public sealed class MemoryStorageContractTests : StorageContractTests
{
    protected override ValueTask<IQueueStorage> CreateStorageAsync() =>
        ValueTask.FromResult(MemoryPluginTests.CreateThroughPlugin());
}
