using System.Runtime.InteropServices;

namespace Slimta.Plugins.Disk;

/// <summary>
/// The few C library calls .NET does not expose: fsync of a directory (rename(2) is durable only
/// once its directory is fsynced, see fsync(2) "Calling fsync() does not necessarily ensure that
/// the entry in the directory containing the file has also reached disk") and a plain rename(2).
/// <see cref="File.Move(string, string, bool)"/> is not used for the spool because on EXDEV it
/// silently falls back to copy + delete, which is not atomic.
/// </summary>
internal static class Posix
{
    private const int ReadOnly = 0;          // O_RDONLY: a directory can be opened read-only and fsynced.
    // O_CLOEXEC (02000000 on x86-64 and arm64): child processes must not inherit spool handles.
    // O_DIRECTORY is left out on purpose: its value differs between architectures.
    private const int CloseOnExec = 0x80000;

    /// <summary>errno EXDEV: rename(2) across file systems.</summary>
    public const int CrossDevice = 18;

    /// <summary>errno ENOSPC: no space left on device.</summary>
    public const int NoSpace = 28;

    /// <summary>errno EDQUOT: disk quota exceeded (Linux).</summary>
    public const int QuotaExceeded = 122;

    /// <summary>True where these calls exist (Linux, the supported platform).</summary>
    public static bool Available => OperatingSystem.IsLinux();

    /// <summary>Opens a directory for <see cref="Fsync"/>; the caller closes it with <see cref="Close"/>.</summary>
    public static int OpenDirectory(string path)
    {
        int fd = Open(path, ReadOnly | CloseOnExec);
        if (fd < 0)
        {
            throw Error($"cannot open directory '{path}'", Marshal.GetLastPInvokeError());
        }
        return fd;
    }

    /// <summary>fsync(2) of an open descriptor.</summary>
    public static void Fsync(int fd, string what)
    {
        if (FsyncCore(fd) != 0)
        {
            throw Error($"fsync of '{what}' failed", Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>Closes a descriptor from <see cref="OpenDirectory"/>.</summary>
    public static void Close(int fd) => _ = CloseCore(fd);

    /// <summary>rename(2): atomically replaces <paramref name="to"/>; never copies.</summary>
    public static void Rename(string from, string to)
    {
        if (!Available)
        {
            File.Move(from, to, overwrite: true);
            return;
        }
        if (RenameCore(from, to) != 0)
        {
            throw Error($"rename '{from}' -> '{to}' failed", Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>An <see cref="IOException"/> whose HResult is the errno, as .NET's own file APIs report it on Unix.</summary>
    public static IOException Error(string what, int errno) =>
        new($"{what}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);

    // DllImport rather than LibraryImport: the source-generated marshalling needs unsafe code,
    // and these signatures (ints and UTF-8 strings) marshal without it.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FsyncCore(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int CloseCore(int fd);

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int RenameCore([MarshalAs(UnmanagedType.LPUTF8Str)] string from, [MarshalAs(UnmanagedType.LPUTF8Str)] string to);
}
