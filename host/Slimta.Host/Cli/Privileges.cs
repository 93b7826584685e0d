using Slimta.Host.Configuration;
using Slimta.Host.Server;

namespace Slimta.Host.Cli;

/// <summary>
/// <c>process.NAME.user</c>/<c>group</c>: started as root, the server binds its listeners (ports
/// below 1024), its control socket and pid file, then switches to this user and group for good
/// (setgid, initgroups, setuid; checked with getuid afterwards). Resolved before anything
/// starts, so a missing user is a configuration error.
/// </summary>
/// <param name="User">The user name, or null when only a group is set.</param>
/// <param name="Uid">The uid to switch to.</param>
/// <param name="Gid">The gid to switch to.</param>
internal sealed record Privileges(string? User, uint Uid, uint Gid)
{
    /// <summary>What to switch to, or null when neither key is set or the process already runs as them.</summary>
    public static Privileges? Resolve(ProcessConfig process)
    {
        if (process.User is null && process.Group is null)
        {
            return null;
        }
        if (OperatingSystem.IsWindows())
        {
            throw process.Options.Error("user", "switching users needs a Unix system");
        }
        uint uid = Posix.UserId, gid = Posix.GroupId;
        if (process.User is { } user)
        {
            var found = Posix.FindUser(user) ?? throw process.Options.Error("user", $"no such user '{user}'");
            (uid, gid) = found;
        }
        if (process.Group is { } group)
        {
            gid = Posix.FindGroup(group) ?? throw process.Options.Error("group", $"no such group '{group}'");
        }
        if (Posix.UserId == uid && Posix.GroupId == gid && Posix.EffectiveUserId == uid)
        {
            return null;
        }
        if (Posix.EffectiveUserId != 0)
        {
            throw process.Options.Error(process.User is not null ? "user" : "group", $"switching to uid {uid} gid {gid} needs root, but the process runs as uid {Posix.EffectiveUserId}; start it as root or drop the key");
        }
        return new Privileges(process.User, uid, gid);
    }

    /// <summary>Switches for good; throws when the switch did not take (never runs on as root by mistake).</summary>
    public void Drop()
    {
        Posix.SwitchTo(User, Uid, Gid);
        if (Posix.UserId != Uid || Posix.EffectiveUserId != Uid || Posix.GroupId != Gid)
        {
            throw new UnauthorizedAccessException($"privileges were not dropped: uid {Posix.UserId}, euid {Posix.EffectiveUserId}, gid {Posix.GroupId}");
        }
    }
}
