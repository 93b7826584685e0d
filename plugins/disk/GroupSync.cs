using Slimta.Abstractions.Threading;

namespace Slimta.Plugins.Disk;

/// <summary>
/// Group commit of one directory: every caller that renamed or unlinked an entry awaits
/// <see cref="SyncAsync"/>, and all callers that arrive while no fsync is running share the next
/// one. A caller arriving while an fsync runs waits for the following round, because its change may
/// have come after that fsync started. Under load one fsync(2) covers many messages, so durability
/// costs latency (one journal commit) rather than throughput.
/// </summary>
internal sealed class GroupSync : IDisposable
{
    private readonly string _path;
    private readonly BlockingWorkers _workers;
    private readonly Lock _lock = new();
    private readonly int _fd;
    private TaskCompletionSource? _next;
    private bool _running;
    private long _rounds;
    private long _requests;
    private long _started;
    private long _lastDone;
    private long _lastFailed;

    public GroupSync(string path, BlockingWorkers workers)
    {
        _path = path;
        _workers = workers;
        _fd = Posix.Available ? Posix.OpenDirectory(path) : -1;
    }

    /// <summary>fsync(2) calls made so far (for tests: fewer than <see cref="Requests"/> under concurrency).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>Callers served so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>
    /// The number of the last fsync round that has started (rounds are numbered from 1 in the
    /// order they run). A change made before reading this is covered by any round with a higher
    /// number, since that round's fsync(2) begins after the change.
    /// </summary>
    public long StartedRound => Interlocked.Read(ref _started);

    /// <summary>The number of the last round whose fsync(2) succeeded (0 before any).</summary>
    public long DoneRound => Interlocked.Read(ref _lastDone);

    /// <summary>
    /// The number of the last round whose fsync(2) failed (0 before any). Linux reports a
    /// writeback error to one fsync only, so a later success does not prove that changes made
    /// before the failed round reached the disk.
    /// </summary>
    public long FailedRound => Interlocked.Read(ref _lastFailed);

    /// <summary>Completes once the directory has been fsynced after this call.</summary>
    public Task SyncAsync()
    {
        Interlocked.Increment(ref _requests);
        lock (_lock)
        {
            _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _next.Task;
            if (!_running)
            {
                Task rounds;
                try
                {
                    rounds = _workers.RunAsync(RunRounds);
                }
                catch (ObjectDisposedException)
                {
                    // The storage is closed: nobody will fsync, so nobody may wait.
                    _next = null;
                    throw;
                }
                _running = true;
                _ = rounds.ContinueWith(
                    t => FailPending(t.Exception!.GetBaseException()),
                    CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
            return task;
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Posix.Close(_fd);
        }
    }

    private void RunRounds()
    {
        while (true)
        {
            TaskCompletionSource? round;
            long number;
            lock (_lock)
            {
                round = _next;
                _next = null;
                if (round is null)
                {
                    _running = false;
                    return;
                }
                number = Interlocked.Increment(ref _started);
            }
            try
            {
                if (_fd >= 0)
                {
                    Posix.Fsync(_fd, _path);
                }
                Interlocked.Increment(ref _rounds);
                Interlocked.Exchange(ref _lastDone, number);
                round.SetResult();
            }
            catch (Exception e)
            {
                Interlocked.Exchange(ref _lastFailed, number);
                round.SetException(e);
            }
        }
    }

    private void FailPending(Exception e)
    {
        // The workers are gone (storage closed): nobody will fsync, so nobody may wait forever.
        lock (_lock)
        {
            _next?.TrySetException(e);
            _next = null;
            _running = false;
        }
    }
}
