using System.Runtime.InteropServices;

namespace Slimta.Plugins.Local;

/// <summary>
/// fsync of a directory, so that a rename into it is on disk before delivery is reported.
/// .NET cannot open a directory as a file handle, so this calls the C library on Unix; on other
/// systems it does nothing (NTFS journals metadata).
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY: a directory can be opened read-only and fsynced.

    private static volatile bool s_unavailable;

    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return;
        }
        if (s_unavailable)
        {
            return;
        }
        int fd;
        try
        {
            fd = Open(directory, ReadOnly);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // No usable C library (an unusual libc): the file itself was fsynced; only the
            // directory entry's durability is weaker. Do not fail every delivery for it.
            s_unavailable = true;
            return;
        }
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // DllImport rather than LibraryImport: the source-generated marshalling needs unsafe code,
    // and these signatures (an int and a UTF-8 string) marshal without it.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
