using System.Globalization;
using Slimta.Host.Server;

namespace Slimta.Host.Cli;

/// <summary>
/// The pid file: created atomically and exclusively (written under a temporary name, then
/// link(2)ed into place, which fails when the name exists), refused while the pid it names is
/// alive, replaced when that process is gone, and removed on exit.
/// </summary>
internal sealed class PidFile : IDisposable
{
    private PidFile(string path) => FilePath = path;

    /// <summary>The file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Refuses early (before any port opens) when a live process holds <paramref name="path"/>;
    /// the file itself is created by <see cref="Create"/> once the server runs, so its
    /// appearance means "ready" to whoever waits for it.
    /// </summary>
    public static void CheckNotRunning(string path)
    {
        if (Read(path) is { } pid && pid != Environment.ProcessId && Posix.ProcessExists(pid))
        {
            throw new IOException($"already running with pid {pid} (pid file {path}); stop it first, or remove the file if that process is not slimta");
        }
    }

    /// <summary>Creates the pid file; an <see cref="IOException"/> says which live process holds it.</summary>
    public static PidFile Create(string path)
    {
        var self = Environment.ProcessId;
        var temp = $"{path}.{self}.tmp";
        File.WriteAllText(temp, self.ToString(CultureInfo.InvariantCulture) + "\n");
        try
        {
            for (int attempt = 0; attempt < 3; attempt++)
            {
                if (Posix.TryLink(temp, path))
                {
                    return new PidFile(path);
                }
                int? holder = Read(path);
                if (holder is { } pid && pid != self && Posix.ProcessExists(pid))
                {
                    throw new IOException($"already running with pid {pid} (pid file {path}); stop it first, or remove the file if that process is not slimta");
                }
                // Stale (its process is gone) or unreadable: replace it.
                File.Delete(path);
            }
            throw new IOException($"could not create the pid file {path}: another process keeps creating it");
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Gives the file to the user the process switches to.</summary>
    public void ChangeOwner(uint uid, uint gid) => Posix.Chown(FilePath, uid, gid);

    /// <summary>Removes the file if it still names this process.</summary>
    public void Dispose()
    {
        try
        {
            if (Read(FilePath) == Environment.ProcessId)
            {
                File.Delete(FilePath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"slimta: could not remove the pid file {FilePath}: {e.Message}");
        }
    }

    private static int? Read(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}
