using System.Runtime.InteropServices;

namespace Slimta.Host.Server;

/// <summary>
/// The C library calls .NET does not expose, for running as a Unix service: user and group
/// lookup and switching (setgid, initgroups, setuid), the file creation mask, chown, a liveness
/// check for pid files (kill 0) and link(2) for creating a file atomically and exclusively.
/// glibc applies set*id to every thread of the process (nptl), so the .NET runtime's threads change too.
/// </summary>
internal static class Posix
{
    /// <summary>errno ESRCH: no such process.</summary>
    public const int NoSuchProcess = 3;

    /// <summary>errno EEXIST.</summary>
    public const int Exists = 17;

    /// <summary>The real user id.</summary>
    public static uint UserId => GetUid();

    /// <summary>The effective user id.</summary>
    public static uint EffectiveUserId => GetEUid();

    /// <summary>The real group id.</summary>
    public static uint GroupId => GetGid();

    /// <summary>A user's uid and primary gid, or null when there is no such user.</summary>
    public static (uint Uid, uint Gid)? FindUser(string name)
    {
        // struct passwd (glibc, 64-bit): pw_name, pw_passwd (pointers), pw_uid, pw_gid (32-bit).
        var p = GetPwNam(name);
        return p == IntPtr.Zero ? null : ((uint)Marshal.ReadInt32(p, 2 * IntPtr.Size), (uint)Marshal.ReadInt32(p, (2 * IntPtr.Size) + 4));
    }

    /// <summary>A group's gid, or null when there is no such group.</summary>
    public static uint? FindGroup(string name)
    {
        // struct group (glibc, 64-bit): gr_name, gr_passwd (pointers), gr_gid (32-bit).
        var p = GetGrNam(name);
        return p == IntPtr.Zero ? null : (uint)Marshal.ReadInt32(p, 2 * IntPtr.Size);
    }

    /// <summary>Sets the group, then the supplementary groups, then the user (in this order: after setuid the others are not allowed).</summary>
    public static void SwitchTo(string? userName, uint uid, uint gid)
    {
        Check(SetGid(gid), "setgid");
        if (userName is not null)
        {
            Check(InitGroups(userName, gid), "initgroups");
        }
        else
        {
            Check(SetGroups(1, [gid]), "setgroups");
        }
        Check(SetUid(uid), "setuid");
    }

    /// <summary>Sets the file creation mask and returns the previous one.</summary>
    public static uint Umask(uint mask) => UmaskCore(mask);

    /// <summary>Changes a file's owner.</summary>
    public static void Chown(string path, uint uid, uint gid) => Check(ChownCore(path, uid, gid), $"chown {path}");

    /// <summary>True when a process with this id exists (kill 0: EPERM means it exists but is someone else's).</summary>
    public static bool ProcessExists(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }
        if (Kill(pid, 0) == 0)
        {
            return true;
        }
        return Marshal.GetLastPInvokeError() != NoSuchProcess;
    }

    /// <summary>link(2): creates <paramref name="to"/> as a new name of <paramref name="from"/>; false when <paramref name="to"/> exists.</summary>
    public static bool TryLink(string from, string to)
    {
        if (LinkCore(from, to) == 0)
        {
            return true;
        }
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Exists)
        {
            return false;
        }
        throw new IOException($"link {from} {to}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
    }

    /// <summary>
    /// Points file descriptors 0, 1 and 2 — and every copy of them (the .NET console keeps dup()s
    /// of 1 and 2) — at /dev/null: a daemon must not keep its starter's terminal or pipes open,
    /// or a shell pipe or a caller reading its output would never see end of file.
    /// </summary>
    public static void DetachStandardStreams()
    {
        int fd = Open("/dev/null", 2 /* O_RDWR */);
        if (fd < 0)
        {
            return;
        }
        var targets = new HashSet<string>(StringComparer.Ordinal);
        for (int std = 0; std <= 2; std++)
        {
            if (LinkOf(std) is { } target && target != "/dev/null")
            {
                targets.Add(target);
            }
        }
        var copies = new List<int> { 0, 1, 2 };
        try
        {
            foreach (var entry in Directory.EnumerateFiles("/proc/self/fd"))
            {
                if (int.TryParse(Path.GetFileName(entry), out int n) && n > 2 && n != fd && LinkOf(n) is { } target && targets.Contains(target))
                {
                    copies.Add(n);
                }
            }
        }
        catch (IOException)
        {
            // No /proc: the three standard descriptors at least.
        }
        foreach (int target in copies)
        {
            _ = Dup2(fd, target);
        }
        if (fd > 2)
        {
            _ = Close(fd);
        }
    }

    private static string? LinkOf(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the real user and group may create files in <paramref name="directory"/>
    /// (access(2) with W_OK|X_OK, which checks the real ids: call it after dropping privileges).
    /// </summary>
    public static bool CanWriteDirectory(string directory) => Access(directory, 2 | 1) == 0;

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new UnauthorizedAccessException($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }

    // DllImport rather than LibraryImport: the source-generated marshalling needs unsafe code,
    // which this project does not enable (same as the disk plugin's Posix).
    [DllImport("libc", EntryPoint = "getuid")]
    private static extern uint GetUid();

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEUid();

    [DllImport("libc", EntryPoint = "getgid")]
    private static extern uint GetGid();

    [DllImport("libc", EntryPoint = "getpwnam", SetLastError = true)]
    private static extern IntPtr GetPwNam([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", EntryPoint = "getgrnam", SetLastError = true)]
    private static extern IntPtr GetGrNam([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", EntryPoint = "setgid", SetLastError = true)]
    private static extern int SetGid(uint gid);

    [DllImport("libc", EntryPoint = "setuid", SetLastError = true)]
    private static extern int SetUid(uint uid);

    [DllImport("libc", EntryPoint = "initgroups", SetLastError = true)]
    private static extern int InitGroups([MarshalAs(UnmanagedType.LPUTF8Str)] string user, uint gid);

    [DllImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    private static extern int SetGroups(nuint size, uint[] groups);

    [DllImport("libc", EntryPoint = "access", SetLastError = true)]
    private static extern int Access([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);

    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint UmaskCore(uint mask);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int ChownCore([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint uid, uint gid);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static extern int Dup2(int from, int to);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int LinkCore([MarshalAs(UnmanagedType.LPUTF8Str)] string from, [MarshalAs(UnmanagedType.LPUTF8Str)] string to);
}
