namespace Slimta.Abstractions.Threading;

/// <summary>
/// A few dedicated threads for the blocking calls .NET has no asynchronous form of (fsync(2),
/// rename(2)). Blocking thread-pool threads instead would starve the SMTP sessions under load (the
/// pool keeps one worker per core: hill climbing is off, docs/operations.md); here at most
/// <c>count</c> threads wait on the disk, and callers await a task. For plugins: the disk queue
/// and the maildir relay use it.
/// <para>
/// An idle worker sleeps in <see cref="Monitor.Wait(object)"/>, which does not spin. The
/// <c>BlockingCollection</c> used before spun (<c>SemaphoreSlim</c>'s spin-then-yield) in each of
/// the eight threads on every job: <c>bench/run.sh quick disk</c> counted 33 involuntary context
/// switches per message in these threads alone (see docs/benchmarks.md, third session).
/// </para>
/// </summary>
public sealed class BlockingWorkers : IDisposable
{
    private readonly object _gate = new();
    private readonly Queue<(Action Work, TaskCompletionSource Done)> _jobs = new();
    private readonly Thread[] _threads;
    private int _idle;
    private bool _closed;

    /// <summary>Starts <paramref name="count"/> background threads named <c>name-N</c>.</summary>
    public BlockingWorkers(int count, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentNullException.ThrowIfNull(name);
        _threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"{name}-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a worker thread; the task carries its exception.</summary>
    /// <exception cref="ObjectDisposedException">The workers were disposed.</exception>
    public Task RunAsync(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_closed)
            {
                throw new ObjectDisposedException(nameof(BlockingWorkers), "the blocking workers are closed");
            }
            _jobs.Enqueue((work, done));
            if (_idle > 0)
            {
                // One job, one waiter woken: no thundering herd of eight threads per fsync.
                Monitor.Pulse(_gate);
            }
        }
        return done.Task;
    }

    /// <summary>Lets the queued jobs finish, then ends the threads (and waits for them).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var thread in _threads)
        {
            thread.Join();
        }
    }

    private void Run()
    {
        while (true)
        {
            (Action Work, TaskCompletionSource Done) job;
            lock (_gate)
            {
                while (_jobs.Count == 0)
                {
                    if (_closed)
                    {
                        return;
                    }
                    _idle++;
                    Monitor.Wait(_gate);
                    _idle--;
                }
                job = _jobs.Dequeue();
            }
            try
            {
                job.Work();
                job.Done.SetResult();
            }
            catch (Exception e)
            {
                job.Done.SetException(e);
            }
        }
    }
}
