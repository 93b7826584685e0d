using Slimta.Abstractions.Threading;

namespace Slimta.Abstractions.Tests;

public sealed class BlockingWorkersTests
{
    [Fact]
    public async Task RunAsync_Work_RunsOnANamedWorkerThreadNotThePool()
    {
        using var workers = new BlockingWorkers(2, "test-sync");
        string? name = null;
        bool pool = true;

        await workers.RunAsync(() =>
        {
            name = Thread.CurrentThread.Name;
            pool = Thread.CurrentThread.IsThreadPoolThread;
        }).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.StartsWith("test-sync-", name);
        Assert.False(pool);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_TaskCarriesTheException()
    {
        using var workers = new BlockingWorkers(1, "test-sync");

        var e = await Assert.ThrowsAsync<IOException>(() => workers.RunAsync(() => throw new IOException("disk gone")).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("disk gone", e.Message);
        // The worker survives a failed job.
        await workers.RunAsync(() => { }).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Dispose_QueuedJobsFinishThenNewOnesAreRefused()
    {
        var workers = new BlockingWorkers(1, "test-sync");
        using var gate = new ManualResetEventSlim();
        var first = workers.RunAsync(gate.Wait);
        int ran = 0;
        var second = workers.RunAsync(() => Interlocked.Increment(ref ran));

        var disposing = Task.Run(workers.Dispose);
        gate.Set();
        await disposing.WaitAsync(TimeSpan.FromSeconds(10));

        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, ran);
        Assert.Throws<ObjectDisposedException>(Refused);

        void Refused() => _ = workers.RunAsync(() => { });
    }
}
