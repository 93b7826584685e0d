using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Disk;

/// <summary>
/// Builds <see cref="DiskStorage"/>. Validate only reads the keys; Create resolves the paths
/// against the configuration file's directory and checks the directories for real (exist, are
/// writable, tmp on the same file system, not used by another process) so every problem stops
/// startup with the key path before any port is opened.
/// </summary>
internal sealed class DiskStorageFactory : IComponentFactory<IQueueStorage>
{
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", "envelope_dir", "meta_dir", "tmp_dir", "quarantine_dir", "create_dirs");
        options.GetRequiredString("envelope_dir");
        options.GetRequiredString("meta_dir");
        CheckNotEmpty(options, "tmp_dir");
        CheckNotEmpty(options, "quarantine_dir");
        options.GetBoolean("create_dirs", false);
    }

    public IQueueStorage Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        Validate(options);
        var envelopeDir = context.ResolvePath(options.GetRequiredString("envelope_dir"));
        var settings = new DiskStorageSettings(
            options.Path,
            envelopeDir,
            context.ResolvePath(options.GetRequiredString("meta_dir")),
            options.GetString("tmp_dir") is { } tmp ? context.ResolvePath(tmp) : Path.Combine(envelopeDir, "tmp"),
            options.GetString("quarantine_dir") is { } q ? context.ResolvePath(q) : Path.Combine(envelopeDir, "quarantine"));
        var lockFile = SpoolDirectories.Prepare(options, settings, options.GetBoolean("create_dirs", false));
        try
        {
            return new DiskStorage(settings, lockFile, context.Time, context.Loggers.CreateLogger("slimta.queue.disk"));
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    private static void CheckNotEmpty(ComponentOptions options, string key)
    {
        if (options.Has(key) && string.IsNullOrEmpty(options.GetString(key)))
        {
            throw options.Error(key, "must not be empty (leave the key out for the default)");
        }
    }
}
