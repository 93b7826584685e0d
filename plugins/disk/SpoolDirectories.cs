using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Disk;

/// <summary>Startup checks of a disk queue's directories; every failure is a <see cref="ConfigException"/> naming the key.</summary>
internal static class SpoolDirectories
{
    /// <summary>Name of the lock file in envelope_dir that keeps a second process off the same spool.</summary>
    public const string LockFileName = ".lock";

    /// <summary>Prefix of the probe files made and removed here (a crash may leave one; startup removes it).</summary>
    public const string ProbePrefix = ".slimta-probe-";

    /// <summary>Checks and, where allowed, creates the directories; returns the held spool lock.</summary>
    public static FileStream Prepare(ComponentOptions options, DiskStorageSettings s, bool createDirs)
    {
        var defaults = new HashSet<string>(StringComparer.Ordinal);
        if (!options.Has("tmp_dir"))
        {
            defaults.Add("tmp_dir");
        }
        if (!options.Has("quarantine_dir"))
        {
            defaults.Add("quarantine_dir");
        }
        if (SamePath(s.QuarantineDir, s.EnvelopeDir) || SamePath(s.QuarantineDir, s.MetaDir))
        {
            throw options.Error("quarantine_dir", "must differ from envelope_dir and meta_dir (quarantined files would be loaded again)");
        }
        if (SamePath(s.TmpDir, s.EnvelopeDir) || SamePath(s.TmpDir, s.MetaDir))
        {
            throw options.Error("tmp_dir", "must differ from envelope_dir and meta_dir");
        }

        // envelope_dir first: the defaults of tmp_dir and quarantine_dir live inside it.
        Ensure(options, "envelope_dir", s.EnvelopeDir, createDirs);
        Ensure(options, "meta_dir", s.MetaDir, createDirs);
        Ensure(options, "tmp_dir", s.TmpDir, createDirs || defaults.Contains("tmp_dir"));
        Ensure(options, "quarantine_dir", s.QuarantineDir, createDirs || defaults.Contains("quarantine_dir"));

        FileStream lockFile;
        var lockPath = Path.Combine(s.EnvelopeDir, LockFileName);
        try
        {
            // FileShare.None takes flock(LOCK_EX | LOCK_NB) on Unix: a second slimta (or
            // slimta-worker) on the same spool would deliver every message twice and could
            // delete the other's temp files. The kernel drops the lock when a process dies, so a
            // crash never leaves a stale lock.
            lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw options.Error("envelope_dir", $"the spool '{s.EnvelopeDir}' is in use by another process or queue (lock {lockPath}): {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw options.Error("envelope_dir", $"directory '{s.EnvelopeDir}' is not writable: {e.Message}");
        }

        try
        {
            ProbeRenames(options, s);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
        return lockFile;
    }

    private static void Ensure(ComponentOptions options, string key, string dir, bool create)
    {
        if (File.Exists(dir))
        {
            throw options.Error(key, $"'{dir}' is a file, not a directory");
        }
        if (!Directory.Exists(dir))
        {
            if (!create)
            {
                throw options.Error(key, $"directory '{dir}' does not exist (create it, or set create_dirs: true)");
            }
            try
            {
                var info = Directory.CreateDirectory(dir);
                if (!OperatingSystem.IsWindows())
                {
                    // Queued mail is private: owner only.
                    info.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw options.Error(key, $"directory '{dir}' does not exist and cannot be created: {e.Message}");
            }
        }
        var probe = Path.Combine(dir, ProbePrefix + Guid.NewGuid().ToString("N"));
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw options.Error(key, $"directory '{dir}' is not writable: {e.Message}");
        }
    }

    /// <summary>
    /// Atomic replacement needs rename(2), which fails with EXDEV across file systems (and across
    /// bind mounts of one file system, which comparing st_dev would miss). So the check is the
    /// operation itself: a probe file is renamed from tmp_dir into each directory and back.
    /// </summary>
    private static void ProbeRenames(ComponentOptions options, DiskStorageSettings s)
    {
        var name = ProbePrefix + Guid.NewGuid().ToString("N");
        var probe = Path.Combine(s.TmpDir, name);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }
            foreach (var (key, dir) in new[] { ("envelope_dir", s.EnvelopeDir), ("meta_dir", s.MetaDir), ("quarantine_dir", s.QuarantineDir) })
            {
                var there = Path.Combine(dir, name);
                try
                {
                    Posix.Rename(probe, there);
                }
                catch (IOException e) when (e.HResult == Posix.CrossDevice)
                {
                    throw options.Error("tmp_dir", $"'{s.TmpDir}' is on another file system than {key} '{dir}': files are written in tmp_dir and renamed into place, and rename(2) is atomic only within one file system; put tmp_dir beside {key}");
                }
                catch (IOException e)
                {
                    throw options.Error(key, $"cannot rename a file from tmp_dir into '{dir}': {e.Message}");
                }
                Posix.Rename(there, probe);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw options.Error("tmp_dir", $"cannot use '{s.TmpDir}': {e.Message}");
        }
        finally
        {
            try
            {
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Startup removes leftover probes.
            }
        }
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(a), Path.TrimEndingDirectorySeparator(b), StringComparison.Ordinal);
}
