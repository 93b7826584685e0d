namespace Slimta.Plugins.Disk;

/// <summary>
/// Files of removed messages kept in tmp_dir for the next writes, so the spool does not create
/// and free an inode (and its data block) for every file of every message. A new file is a
/// rename(2) of a recycled one into its tmp name, overwritten in place and cut to length; a removed
/// message's files are renamed here instead of unlinked, and become reusable only once the
/// directories they left have been fsynced (<see cref="Detach"/>, <see cref="Publish"/>). Both are
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
    private int _pending;
    private bool _closed;
    private long _next;

    public RecycledFiles(string dir, int capacity)
    {
        _dir = dir;
        _capacity = capacity;
    }

    /// <summary>Files waiting for reuse.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _free.Count;
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
            catch (IOException)
            {
                // Gone (an operator cleaned tmp_dir): try the next one.
            }
        }
    }

    /// <summary>
    /// Takes the file at <paramref name="path"/> out of its directory (one rename(2) into tmp_dir)
    /// and returns where it went; null when it did not exist or was unlinked instead (the pool is
    /// full or the file is large). The file is not reused until <see cref="Publish"/>: the caller
    /// first makes the rename durable (fsync of the directory it left), or a crash could bring the
    /// old name back with another message's bytes in it.
    /// </summary>
    public string? Detach(string path)
    {
        bool counted;
        lock (_lock)
        {
            counted = !_closed && _free.Count + _pending < _capacity;
            if (counted)
            {
                _pending++;
            }
        }
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return Uncount(counted);
            }
            if (!counted || info.Length > MaxFileSize)
            {
                File.Delete(path);
                return Uncount(counted);
            }
            var target = Path.Combine(_dir, _prefix + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp");
            try
            {
                Posix.Rename(path, target);
            }
            catch (IOException) when (!File.Exists(path))
            {
                return Uncount(counted);
            }
            return target;
        }
        catch
        {
            Uncount(counted);
            throw;
        }
    }

    /// <summary>Makes a file from <see cref="Detach"/> reusable (or unlinks it once the pool is closed).</summary>
    public void Publish(string path)
    {
        lock (_lock)
        {
            _pending--;
            if (!_closed)
            {
                _free.Push(path);
                return;
            }
        }
        Discard(path);
    }

    /// <summary>Unlinks a file from <see cref="Detach"/> that will not be reused.</summary>
    public void Abandon(string path)
    {
        Unpend();
        Discard(path);
    }

    /// <summary>Unlinks every kept file and keeps no more (clean shutdown); files published later are unlinked.</summary>
    public void Clear()
    {
        string[] all;
        lock (_lock)
        {
            _closed = true;
            all = [.. _free];
            _free.Clear();
        }
        foreach (var path in all)
        {
            Discard(path);
        }
    }

    private void Unpend()
    {
        lock (_lock)
        {
            _pending--;
        }
    }

    private string? Uncount(bool counted)
    {
        if (counted)
        {
            Unpend();
        }
        return null;
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
