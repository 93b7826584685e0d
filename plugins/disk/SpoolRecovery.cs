using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Slimta.Plugins.Disk;

/// <summary>
/// What <see cref="DiskStorage.LoadAllAsync"/> does at startup: removes leftover temp files, checks
/// every message (both files present, checksums, ids, recipient counts agree) and yields the good
/// ones. A bad file is moved to quarantine_dir and logged — it never stops startup, never blocks
/// the other messages, and is never deleted: an operator can inspect it. The only files deleted
/// are our own temp files and a <c>.meta</c> without its <c>.env</c> (an unfinished write or
/// remove: nothing was acknowledged, or the message was already done).
/// </summary>
internal sealed class SpoolRecovery(DiskStorage storage, DiskStorageSettings settings, TimeProvider time, ILogger log)
{
    public async IAsyncEnumerable<(string Id, MetaState Meta)> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await CleanTempAsync().ConfigureAwait(false);
        RemoveProbes(settings.EnvelopeDir);
        RemoveProbes(settings.MetaDir);
        RemoveProbes(settings.QuarantineDir);

        var envIds = ListIds(settings.EnvelopeDir, ".env");
        var metaIds = ListIds(settings.MetaDir, ".meta");
        int loaded = 0, quarantined = 0, orphans = 0;
        foreach (var id in envIds.Union(metaIds).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var gate = storage.LockOf(id);
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            MetaState? good = null;
            try
            {
                var outcome = await CheckAsync(id, cancellationToken).ConfigureAwait(false);
                switch (outcome.Kind)
                {
                    case Kind.Good:
                        good = outcome.Meta;
                        loaded++;
                        break;
                    case Kind.Orphan:
                        orphans++;
                        break;
                    case Kind.Quarantined:
                        quarantined++;
                        break;
                }
            }
            finally
            {
                gate.Release();
            }
            if (good is not null)
            {
                yield return (id, good);
            }
        }
        if (quarantined > 0 || orphans > 0)
        {
            try
            {
                await storage.SyncAllAsync().ConfigureAwait(false);
            }
            catch (IOException e)
            {
                log.LogWarning("{Queue} could not fsync the spool after recovery: {Message}", settings.Name, e.Message);
            }
        }
        log.LogInformation("{Queue} spool recovered: {Loaded} messages, {Quarantined} quarantined to {Dir}, {Orphans} unfinished writes removed",
            settings.Name, loaded, quarantined, settings.QuarantineDir, orphans);
    }

    /// <summary>The event of a quarantined file, as the host names it (Slimta.Host.Logging.LogEvents).</summary>
    public static readonly EventId QuarantinedEvent = new(1201, "quarantined");

    /// <summary>The queue's name (<c>inbound</c> for <c>queue.inbound</c>), as the host's events write it.</summary>
    public static string QueueName(DiskStorageSettings settings) =>
        settings.Name.StartsWith("queue.", StringComparison.Ordinal) ? settings.Name["queue.".Length..] : settings.Name;

    /// <summary>Moves a file into quarantine (under a new name when one exists) with a <c>.reason</c> note beside it.</summary>
    public static void Quarantine(DiskStorageSettings settings, TimeProvider time, ILogger log, string path, string reason)
    {
        if (!File.Exists(path))
        {
            return;
        }
        var name = Path.GetFileName(path);
        var target = Path.Combine(settings.QuarantineDir, name);
        if (File.Exists(target))
        {
            target = Path.Combine(settings.QuarantineDir, $"{name}.{time.GetUtcNow():yyyyMMddTHHmmssfffZ}.{Guid.NewGuid().ToString("N")[..8]}");
        }
        try
        {
            Posix.Rename(path, target);
            // The host's structured event 'quarantined' (docs/operations.md, Logging): same id, name and fields.
            log.LogError(QuarantinedEvent, "queue={Queue} quarantined {File} -> {Target}: {Reason}", QueueName(settings), path, target, reason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogError("{Queue} {File} is unreadable ({Reason}) and could not be moved to quarantine: {Message}", settings.Name, path, reason, e.Message);
            return;
        }
        try
        {
            File.WriteAllText(target + ".reason", string.Create(CultureInfo.InvariantCulture, $"{time.GetUtcNow():O} {name}: {reason}\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("{Queue} could not write the quarantine note for {File}: {Message}", settings.Name, target, e.Message);
        }
    }

    private async Task<(Kind Kind, MetaState? Meta)> CheckAsync(string id, CancellationToken cancellationToken)
    {
        var envPath = settings.EnvelopePath(id);
        var metaPath = settings.MetaPath(id);
        bool hasEnv = File.Exists(envPath), hasMeta = File.Exists(metaPath);
        if (!hasEnv)
        {
            if (hasMeta)
            {
                // Written .meta-first and removed .env-first: a lone .meta is an unfinished write
                // (the client never got a 250) or an unfinished remove (already delivered).
                try
                {
                    File.Delete(metaPath);
                    log.LogWarning("{Queue} id={Id} had a .meta without .env (unfinished write or remove); deleted", settings.Name, id);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    log.LogError("{Queue} id={Id} has a .meta without .env that cannot be deleted: {Message}", settings.Name, id, e.Message);
                }
            }
            return (Kind.Orphan, null);
        }
        if (!hasMeta)
        {
            QuarantineBoth(id, "the .env file has no .meta file");
            return (Kind.Quarantined, null);
        }
        try
        {
            var meta = MetaFormat.Decode(await File.ReadAllBytesAsync(metaPath, cancellationToken).ConfigureAwait(false), id);
            var envelope = EnvelopeFormat.Decode(await File.ReadAllBytesAsync(envPath, cancellationToken).ConfigureAwait(false), id);
            if (envelope.Recipients.Count != meta.RecipientCount)
            {
                throw new SpoolFormatException($".meta counts {meta.RecipientCount} recipients, .env has {envelope.Recipients.Count}");
            }
            return (Kind.Good, meta);
        }
        catch (SpoolFormatException e)
        {
            QuarantineBoth(id, e.Message);
            return (Kind.Quarantined, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            QuarantineBoth(id, "cannot be read: " + e.Message);
            return (Kind.Quarantined, null);
        }
    }

    private void QuarantineBoth(string id, string reason)
    {
        Quarantine(settings, time, log, settings.EnvelopePath(id), reason);
        Quarantine(settings, time, log, settings.MetaPath(id), reason);
    }

    /// <summary>Ids of <c>&lt;id&gt;&lt;suffix&gt;</c> files; a file with the suffix but a name that is not an id is quarantined.</summary>
    private HashSet<string> ListIds(string dir, string suffix)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(dir, "*" + suffix))
        {
            var name = Path.GetFileName(path);
            if (!name.EndsWith(suffix, StringComparison.Ordinal))
            {
                continue;
            }
            var id = name[..^suffix.Length];
            if (QueueIds.IsValid(id))
            {
                ids.Add(id);
            }
            else
            {
                Quarantine(settings, time, log, path, "the file name is not a queue id");
            }
        }
        return ids;
    }

    private async Task CleanTempAsync()
    {
        int removed = 0;
        foreach (var path in Directory.EnumerateFiles(settings.TmpDir))
        {
            var name = Path.GetFileName(path);
            if (!name.EndsWith(".tmp", StringComparison.Ordinal) && !name.StartsWith(SpoolDirectories.ProbePrefix, StringComparison.Ordinal))
            {
                continue; // not ours: tmp_dir may be shared
            }
            int dot = name.IndexOf('.', StringComparison.Ordinal);
            var id = dot > 0 ? name[..dot] : name;
            var gate = QueueIds.IsValid(id) ? storage.LockOf(id) : null;
            if (gate is not null)
            {
                // A write of this id in progress holds the lock; its temp file is not leftover.
                await gate.WaitAsync().ConfigureAwait(false);
            }
            try
            {
                File.Delete(path);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("{Queue} could not remove leftover temp file {Path}: {Message}", settings.Name, path, e.Message);
            }
            finally
            {
                gate?.Release();
            }
        }
        if (removed > 0)
        {
            log.LogInformation("{Queue} removed {Count} leftover temp files from {Dir}", settings.Name, removed, settings.TmpDir);
        }
    }

    private void RemoveProbes(string dir)
    {
        foreach (var path in Directory.EnumerateFiles(dir, SpoolDirectories.ProbePrefix + "*"))
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("{Queue} could not remove probe file {Path}: {Message}", settings.Name, path, e.Message);
            }
        }
    }

    private enum Kind
    {
        Good,
        Orphan,
        Quarantined,
    }
}
