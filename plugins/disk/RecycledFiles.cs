namespace Slimta.Plugins.Disk;

/// <summary>
/// Files of removed messages kept in tmp_dir for the next writes, so the spool does not create
/// and free an inode (and its data block) for every file of every message. A new file is a
/// rename(2) of a recycled one into its tmp name, overwritten in place and cut to length; a removed
/// message's files are renamed here instead of unlinked, and become reusable only once the
/// directories they left have been fsynced (<see cref="Detach"/>). Both are
/// single atomic renames, so the crash states of the spool are unchanged: a recycled file lives
/// only in tmp_dir under a name ending in <c>.tmp</c>, which startup removes like any leftover.
/// <para>
/// Why: on ext4 every new inode is searched for past the inodes freed in the last seconds
/// (<c>recently_deleted</c>; minutes while their inode table block is dirty), so at thousands of
/// messages a second file creation alone cost 0.1–0.3 ms of kernel CPU on the benchmark machine
/// and varied with the churn of the minutes before (docs/benchmarks.md, third session).
/// </para>
/// </summary>
internal sealed class RecycledFiles
{
    /// <summary>Files larger than this are unlinked, not kept: the pool must not hold much disk.</summary>
    public const long MaxFileSize = 64 * 1024;

    private readonly string _dir;
    private readonly int _capacity;
    private readonly string _prefix = "recycled-" + Guid.NewGuid().ToString("N")[..12] + "-";
    private readonly Lock _lock = new();
    private readonly Stack<string> _free = new();
    private readonly Queue<(string Path, long Envelope, long Meta)> _waiting = new();
    private readonly GroupSync _envelopeSync;
    private readonly GroupSync _metaSync;
    private int _detaching;
    private bool _closed;
    private long _next;

    /// <param name="dir">tmp_dir.</param>
    /// <param name="capacity">At most this many files are kept.</param>
    /// <param name="envelopeSync">The group commit of envelope_dir: a removed .env is reused only after one of its rounds that began after the removal.</param>
    /// <param name="metaSync">The same for meta_dir.</param>
    public RecycledFiles(string dir, int capacity, GroupSync envelopeSync, GroupSync metaSync)
    {
        _dir = dir;
        _capacity = capacity;
        _envelopeSync = envelopeSync;
        _metaSync = metaSync;
    }

    /// <summary>Files ready for reuse (removals already made durable by a directory fsync).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                PromoteLocked();
                return _free.Count;
            }
        }
    }

    /// <summary>Files removed but not yet reusable (no directory fsync since their removal).</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Moves a recycled file to <paramref name="path"/>; false when none is left (create one then).</summary>
    public bool TryTake(string path)
    {
        while (true)
        {
            string? free;
            lock (_lock)
            {
                PromoteLocked();
                if (!_free.TryPop(out free))
                {
                    return false;
                }
            }
            try
            {
                Posix.Rename(free, path);
                return true;
            }
            catch (IOException) when (!File.Exists(free))
            {
                // Gone (an operator cleaned tmp_dir): try the next one.
            }
            catch (IOException)
            {
                // The destination is the problem (tmp_dir unwritable): keep the file, let the
                // caller's own create report the error.
                lock (_lock)
                {
                    _free.Push(free);
                }
                return false;
            }
        }
    }

    /// <summary>
    /// Takes the file at <paramref name="path"/> out of its directory by one rename(2) into tmp_dir
    /// (or unlinks it when the pool is full or the file is large); nothing happens when it does not
    /// exist. The file is not reused before the directories it may have left have been fsynced by a
    /// round of their group commit that began after this call — the writers' own fsyncs, so no
    /// extra one is made: were it reused earlier, a power loss could bring the old name back with
    /// another message's bytes in it.
    /// </summary>
    public void Detach(string path)
    {
        bool counted;
        lock (_lock)
        {
            counted = !_closed && _free.Count + _waiting.Count + _detaching < _capacity;
            if (counted)
            {
                _detaching++;
            }
        }
        string? target = null;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return;
            }
            if (!counted || info.Length > MaxFileSize)
            {
                File.Delete(path);
                return;
            }
            var name = Path.Combine(_dir, _prefix + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp");
            try
            {
                Posix.Rename(path, name);
            }
            catch (IOException) when (!File.Exists(path))
            {
                return;
            }
            target = name;
        }
        finally
        {
            if (counted)
            {
                bool closed;
                lock (_lock)
                {
                    _detaching--;
                    closed = _closed;
                    if (target is not null && !closed)
                    {
                        // Read after the rename: any round numbered higher began after it.
                        _waiting.Enqueue((target, _envelopeSync.StartedRound, _metaSync.StartedRound));
                    }
                }
                if (target is not null && closed)
                {
                    Discard(target);
                }
            }
        }
    }

    /// <summary>
    /// Moves the files whose removal is durable now from the waiting queue to the free ones. The
    /// queue is ordered in both round numbers (entries are added under the lock with numbers that
    /// only grow), so the first entry that is not ready ends the pass. A file whose removal may have
    /// been lost with a failed fsync round is never reused (unlinked instead).
    /// </summary>
    private void PromoteLocked()
    {
        List<string>? abandoned = null;
        while (_waiting.TryPeek(out var w)
            && _envelopeSync.DoneRound > w.Envelope
            && _metaSync.DoneRound > w.Meta)
        {
            _waiting.Dequeue();
            if (_envelopeSync.FailedRound > w.Envelope || _metaSync.FailedRound > w.Meta)
            {
                (abandoned ??= []).Add(w.Path);
                continue;
            }
            _free.Push(w.Path);
        }
        if (abandoned is { Count: > 0 })
        {
            // Unlinking under the lock is rare (only after an fsync error) and short.
            foreach (var path in abandoned)
            {
                Discard(path);
            }
        }
    }

    /// <summary>
    /// Unlinks every kept file, ready or waiting, and returns how many: the disk is full and their
    /// blocks are worth more as free space. Unlinking (unlike reuse) is safe before the removal is
    /// durable, as a plain unlink of a delivered message's file always was.
    /// </summary>
    public int ReleaseAll()
    {
        string[] all;
        lock (_lock)
        {
            all = [.. _free, .. _waiting.Select(w => w.Path)];
            _free.Clear();
            _waiting.Clear();
        }
        foreach (var path in all)
        {
            Discard(path);
        }
        return all.Length;
    }

    /// <summary>Unlinks every kept file and keeps no more (clean shutdown); files detached later are unlinked.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _closed = true;
        }
        ReleaseAll();
    }

    private static void Discard(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for startup, which removes leftover temp files.
        }
    }
}
