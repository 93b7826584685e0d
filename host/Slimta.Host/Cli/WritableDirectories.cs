using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Server;

namespace Slimta.Host.Cli;

/// <summary>
/// After dropping root (<c>process.NAME.user</c>): the queue directories the server writes every
/// message into must be writable by that user. Storages are opened (and <c>create_dirs</c>
/// creates directories) as root, so a spool left owned by root opens fine and then refuses every
/// message with 451 — mail is deferred by its senders while the server looks healthy. Checked
/// once at startup instead, so the operator gets one clear error naming the key and the fix.
/// </summary>
internal static class WritableDirectories
{
    /// <summary>
    /// Throws a <see cref="ConfigException"/> for the first queue directory the process (now
    /// running as <paramref name="who"/>) cannot create files in; <paramref name="owner"/> is the
    /// <c>chown</c> argument in the advice. Every queue option whose key
    /// ends in <c>_dir</c> counts (the disk spool's <c>envelope_dir</c>, <c>meta_dir</c>,
    /// <c>tmp_dir</c>, <c>quarantine_dir</c>, and plugins that follow the convention), plus the
    /// disk spool's default <c>tmp</c> and <c>quarantine</c> subdirectories. Directories that do
    /// not exist are left to their storage.
    /// </summary>
    public static void Check(SlimtaConfig config, string who, string owner)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        foreach (var (keyPath, directory, consequence) in Of(config))
        {
            if (Directory.Exists(directory) && !Posix.CanWriteDirectory(directory))
            {
                throw new ConfigException(keyPath, $"'{directory}' is not writable by {who}, which the server runs as after dropping root: {consequence}; give the directory and its subdirectories to that user (chown -R {owner} '{directory}')");
            }
        }
    }

    /// <summary>The directories, the key path that names each, and what an unwritable one would cause.</summary>
    public static IEnumerable<(string KeyPath, string Directory, string Consequence)> Of(SlimtaConfig config)
    {
        const string Refused = "every message would be refused";
        foreach (var queue in config.Queues.Values)
        {
            foreach (var key in queue.Options.Map.Keys)
            {
                if (!key.EndsWith("_dir", StringComparison.Ordinal) || queue.Options.GetString(key) is not { Length: > 0 } value)
                {
                    continue;
                }
                var full = Path.GetFullPath(value, config.Directory);
                yield return (queue.Options.PathOf(key), full, Refused);
                if (key == "envelope_dir" && queue.Type == "disk")
                {
                    // The disk spool's defaults for tmp_dir and quarantine_dir.
                    if (!queue.Options.Has("tmp_dir"))
                    {
                        yield return (queue.Options.PathOf("tmp_dir"), Path.Combine(full, "tmp"), Refused);
                    }
                    if (!queue.Options.Has("quarantine_dir"))
                    {
                        yield return (queue.Options.PathOf("quarantine_dir"), Path.Combine(full, "quarantine"), Refused);
                    }
                }
            }
        }
        // The mx relay's MTA-STS cache file is written after every new policy.
        foreach (var relay in config.Relays.Values)
        {
            if (relay.Options.Map["mta_sts"] is ConfigMap && relay.Options.GetSection("mta_sts") is { } sts && sts.GetString("cache_file") is { Length: > 0 } file
                && Path.GetDirectoryName(Path.GetFullPath(file, config.Directory)) is { } directory)
            {
                yield return (ConfigNode.Combine(relay.Options.PathOf("mta_sts"), "cache_file"), directory, "no MTA-STS policy would be kept across restarts");
            }
        }
    }
}
