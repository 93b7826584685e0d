using System.Collections.Concurrent;

namespace Slimta.Plugins.Disk;

/// <summary>
/// A few dedicated threads for the blocking calls .NET has no asynchronous form of (fsync(2)).
/// Blocking thread-pool threads instead would starve the SMTP sessions under load; here at most
/// <c>count</c> threads wait on the disk, and callers await a task.
/// </summary>
internal sealed class SyncWorkers : IDisposable
{
    private readonly BlockingCollection<(Action Work, TaskCompletionSource Done)> _jobs = new();
    private readonly Thread[] _threads;

    public SyncWorkers(int count, string name)
    {
        _threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"{name}-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a worker thread.</summary>
    public Task RunAsync(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _jobs.Add((work, done));
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(SyncWorkers), "the disk queue storage is closed");
        }
        return done.Task;
    }

    public void Dispose()
    {
        _jobs.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        _jobs.Dispose();
    }

    private void Run()
    {
        foreach (var (work, done) in _jobs.GetConsumingEnumerable())
        {
            try
            {
                work();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }
    }
}
