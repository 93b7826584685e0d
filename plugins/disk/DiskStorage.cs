using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Threading;

namespace Slimta.Plugins.Disk;

/// <summary>
/// A queue storage in files: <c>&lt;envelope_dir&gt;/&lt;id&gt;.env</c> (envelope and exact message
/// bytes, written once) and <c>&lt;meta_dir&gt;/&lt;id&gt;.meta</c> (attempts, next attempt,
/// delivered recipients, rewritten on every change). Every file is written in tmp_dir, fsynced,
/// renamed into place and its directory fsynced before the call returns, so a 250 from the edge
/// means the message survives a crash or power loss (RFC 5321 §6.1). Directory fsyncs are shared
/// between concurrent callers (<see cref="GroupSync"/>).
/// <para>
/// Crash states and what startup makes of them (see <see cref="SpoolRecovery"/>): a write renames
/// the <c>.meta</c> first and the <c>.env</c> last, so a <c>.meta</c> without <c>.env</c> is an
/// unfinished write (never acknowledged) or an unfinished remove and is deleted; a <c>.env</c>
/// without <c>.meta</c> does not come from a crash of this code on a journaling file system and is
/// quarantined.
/// </para>
/// </summary>
internal sealed class DiskStorage : IQueueStorage, IAsyncDisposable
{
    private const int Stripes = 64;

    private readonly DiskStorageSettings _settings;
    private readonly FileStream _lockFile;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly BlockingWorkers _workers;
    private readonly RecycledFiles _recycled;
    private readonly GroupSync _envelopeSync;
    private readonly GroupSync _metaSync;
    private readonly SemaphoreSlim[] _locks = new SemaphoreSlim[Stripes];
    private readonly ConcurrentDictionary<string, MetaState> _metas = new(StringComparer.Ordinal);
    private int _disposed;

    public DiskStorage(DiskStorageSettings settings, FileStream lockFile, TimeProvider time, ILogger log)
    {
        _settings = settings;
        _lockFile = lockFile;
        _time = time;
        _log = log;
        for (int i = 0; i < Stripes; i++)
        {
            _locks[i] = new SemaphoreSlim(1, 1);
        }
        // Eight threads may wait in fsync(2) at once: enough for the kernel to merge concurrent
        // file fsyncs into one journal commit, few enough never to starve anything else.
        _workers = new BlockingWorkers(8, "slimta-disk-sync");
        try
        {
            _envelopeSync = new GroupSync(settings.EnvelopeDir, _workers);
            _metaSync = string.Equals(settings.MetaDir, settings.EnvelopeDir, StringComparison.Ordinal)
                ? _envelopeSync
                : new GroupSync(settings.MetaDir, _workers);
        }
        catch
        {
            _envelopeSync?.Dispose();
            _workers.Dispose();
            throw;
        }
        _recycled = new RecycledFiles(settings.TmpDir, 256, _envelopeSync, _metaSync);
    }

    public DiskStorageSettings Settings => _settings;

    /// <summary>The group commit of envelope_dir (tests check that fsyncs are shared).</summary>
    internal GroupSync EnvelopeSync => _envelopeSync;

    /// <summary>Files of removed messages ready for reuse (for tests).</summary>
    internal int RecycledCount => _recycled.Count;

    /// <summary>Files of removed messages waiting for a directory fsync before reuse (for tests).</summary>
    internal int RecycledWaiting => _recycled.Waiting;

    public async ValueTask WriteAsync(string id, Envelope envelope, DateTimeOffset nextAttempt, CancellationToken cancellationToken)
    {
        QueueIds.Check(id);
        ArgumentNullException.ThrowIfNull(envelope);
        // Encoded now: later changes of the caller's envelope cannot reach the stored copy.
        var envelopeBytes = EnvelopeFormat.Encode(id, envelope);
        var meta = new MetaState(0, nextAttempt, envelope.Recipients.Count, []);
        var metaBytes = MetaFormat.Encode(id, meta);
        string tmpEnv = _settings.TmpEnvelopePath(id), tmpMeta = _settings.TmpMetaPath(id);
        string envPath = _settings.EnvelopePath(id), metaPath = _settings.MetaPath(id);

        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        bool metaPlaced = false, envPlaced = false;
        try
        {
            if (_metas.ContainsKey(id) || File.Exists(envPath) || File.Exists(metaPath))
            {
                // Ids are 128 random bits chosen by the engine; overwriting would lose a message.
                throw new InvalidOperationException($"A message with id '{id}' is already stored.");
            }
            await Task.WhenAll(
                WriteFileAsync(tmpEnv, envelopeBytes, cancellationToken),
                WriteFileAsync(tmpMeta, [metaBytes], cancellationToken)).ConfigureAwait(false);

            // From here on no cancellation: a half-done rename sequence is worse than finishing it.
            // The .meta is renamed first and the .env last; both directories are then fsynced
            // together (one journal commit instead of two in a row). Journaling file systems
            // (ext4, xfs) commit metadata changes in the order they were made, so a crash before
            // the fsyncs leaves nothing, a lone .meta (deleted at startup) or both — and none of
            // these was acknowledged. Only a file system that reorders renames could leave a lone
            // .env, which startup quarantines: kept, never lost, never delivered unasked.
            Posix.Rename(tmpMeta, metaPath);
            metaPlaced = true;
            Posix.Rename(tmpEnv, envPath);
            envPlaced = true;
            await (ReferenceEquals(_metaSync, _envelopeSync)
                ? _envelopeSync.SyncAsync()
                : Task.WhenAll(_metaSync.SyncAsync(), _envelopeSync.SyncAsync())).ConfigureAwait(false);
            _metas[id] = meta;
        }
        catch (Exception e)
        {
            // Not stored: the edge answers 4xx and the client sends again. Take everything back so
            // nothing half-written stays behind (startup would clean it anyway).
            TryDelete(tmpEnv);
            TryDelete(tmpMeta);
            if (envPlaced)
            {
                TryDelete(envPath);
            }
            if (metaPlaced)
            {
                TryDelete(metaPath);
            }
            throw Normalize(e, id);
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask SetNextAttemptAsync(string id, DateTimeOffset nextAttempt, CancellationToken cancellationToken) =>
        await UpdateAsync(id, m => m with { NextAttempt = nextAttempt }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<int> IncrementAttemptsAsync(string id, CancellationToken cancellationToken) =>
        (await UpdateAsync(id, m => m with { Attempts = m.Attempts + 1 }, cancellationToken).ConfigureAwait(false)).Attempts;

    public async ValueTask SetRecipientsDeliveredAsync(string id, IReadOnlyCollection<int> recipientIndexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipientIndexes);
        await UpdateAsync(id, m =>
        {
            foreach (int index in recipientIndexes)
            {
                if (index < 0 || index >= m.RecipientCount)
                {
                    throw new ArgumentOutOfRangeException(nameof(recipientIndexes), index, $"Message '{id}' has {m.RecipientCount} recipients.");
                }
            }
            // Delivered recipients accumulate: one delivered once is never attempted again.
            return m with { Delivered = m.Delivered.Union(recipientIndexes).Order().ToArray() };
        }, cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<ScheduledMessage> LoadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var recovery = new SpoolRecovery(this, _settings, _time, _log);
        await foreach (var (id, meta) in recovery.RunAsync(cancellationToken).ConfigureAwait(false))
        {
            _metas[id] = meta;
            yield return new ScheduledMessage(id, meta.NextAttempt);
        }
    }

    public async ValueTask<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        QueueIds.Check(id);
        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var meta = await ReadMetaAsync(id, cancellationToken).ConfigureAwait(false);
            if (meta is null)
            {
                return null;
            }
            byte[] file;
            try
            {
                file = await File.ReadAllBytesAsync(_settings.EnvelopePath(id), cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException)
            {
                return null;
            }
            Envelope envelope;
            try
            {
                envelope = EnvelopeFormat.Decode(file, id);
            }
            catch (SpoolFormatException e)
            {
                // Damaged after startup (a disk error): keep it for the operator, never deliver garbage.
                _log.LogError("queue={Queue} id={Id} envelope file is unreadable ({Reason}); moving it to quarantine {Dir}", SpoolRecovery.QueueName(_settings), id, e.Message, _settings.QuarantineDir);
                await QuarantineLockedAsync(id, e.Message).ConfigureAwait(false);
                return null;
            }
            return new StoredMessage(id, envelope, meta.Attempts, meta.NextAttempt, new HashSet<int>(meta.Delivered));
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask RemoveAsync(string id, CancellationToken cancellationToken)
    {
        QueueIds.Check(id);
        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The .env goes first: a crash after it leaves a lone .meta, which startup deletes; the
            // other order would leave a lone .env, which startup must quarantine. Each file leaves
            // its directory by one rename(2) into the recycled files (or an unlink). No fsync
            // between or after the two: a journaling file system (ext4, xfs) commits them in the
            // order they were made, and a crash that loses them only brings the message back for
            // one more delivery (a duplicate, never a loss) — Postfix removes its queue files the
            // same way. The fsync here used to force one extra journal commit per delivered
            // message that the edge's fsyncs then queued behind (docs/benchmarks.md, third session).
            _recycled.Detach(_settings.EnvelopePath(id));
            _recycled.Detach(_settings.MetaPath(id));
            _metas.TryRemove(id, out _);
        }
        finally
        {
            gate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _workers.Dispose();
            _recycled.Clear();
            _envelopeSync.Dispose();
            if (!ReferenceEquals(_metaSync, _envelopeSync))
            {
                _metaSync.Dispose();
            }
            _lockFile.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The per-id lock (striped): one message's changes are serialized, different messages rarely contend.</summary>
    internal SemaphoreSlim LockOf(string id) => _locks[(int)((uint)string.GetHashCode(id, StringComparison.Ordinal) % Stripes)];

    /// <summary>
    /// Creates, writes and fsyncs a whole file, all on one sync worker: one thread hop per file
    /// instead of three (an asynchronous write on Unix is a synchronous pwrite(2) on a thread-pool
    /// thread anyway, and the fsync needed a worker after it).
    /// </summary>
    internal async Task WriteFileAsync(string path, IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken)
    {
        // async: a cancellation or a closed storage surfaces through the task, so the caller's
        // WhenAll waits for the other file's job before it cleans up.
        cancellationToken.ThrowIfCancellationRequested();
        await _workers.RunAsync(() =>
        {
            try
            {
                Write();
            }
            catch (IOException e) when (IsDiskFull(e) && _recycled.ReleaseAll() > 0)
            {
                // The kept files of delivered messages hold space: give it back, write once more.
                TryDelete(path);
                Write();
            }
        }).ConfigureAwait(false);

        void Write()
        {
            // A recycled file is overwritten in place and cut to length (no O_TRUNC: freeing and
            // reallocating its blocks is what recycling avoids).
            bool recycled = _recycled.TryTake(path);
            using var handle = File.OpenHandle(path, recycled ? FileMode.Open : FileMode.Create, FileAccess.Write, FileShare.None);
            RandomAccess.Write(handle, parts, 0);
            if (recycled)
            {
                long length = 0;
                foreach (var part in parts)
                {
                    length += part.Length;
                }
                RandomAccess.SetLength(handle, length);
            }
            RandomAccess.FlushToDisk(handle);
        }
    }

    /// <summary>fsync of the directories a recovery changed.</summary>
    internal async Task SyncAllAsync()
    {
        await _envelopeSync.SyncAsync().ConfigureAwait(false);
        await _metaSync.SyncAsync().ConfigureAwait(false);
        await _workers.RunAsync(() =>
        {
            if (Posix.Available)
            {
                int fd = Posix.OpenDirectory(_settings.QuarantineDir);
                try
                {
                    Posix.Fsync(fd, _settings.QuarantineDir);
                }
                finally
                {
                    Posix.Close(fd);
                }
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Moves whatever exists of a message into quarantine; the caller holds the id's lock.</summary>
    internal async Task QuarantineLockedAsync(string id, string reason)
    {
        _metas.TryRemove(id, out _);
        SpoolRecovery.Quarantine(_settings, _time, _log, _settings.EnvelopePath(id), reason);
        SpoolRecovery.Quarantine(_settings, _time, _log, _settings.MetaPath(id), reason);
        await SyncAllAsync().ConfigureAwait(false);
    }

    private async Task<MetaState> UpdateAsync(string id, Func<MetaState, MetaState> change, CancellationToken cancellationToken)
    {
        QueueIds.Check(id);
        var gate = LockOf(id);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var tmpMeta = _settings.TmpMetaPath(id);
        try
        {
            var current = await ReadMetaAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new KeyNotFoundException($"No message with id '{id}' is stored.");
            var updated = change(current);
            await WriteFileAsync(tmpMeta, [MetaFormat.Encode(id, updated)], cancellationToken).ConfigureAwait(false);
            // rename(2) replaces the old .meta atomically: a crash leaves the old state or the new.
            Posix.Rename(tmpMeta, _settings.MetaPath(id));
            _metas[id] = updated;
            await _metaSync.SyncAsync().ConfigureAwait(false);
            return updated;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(tmpMeta);
            throw Normalize(e, id);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The cached state, else the <c>.meta</c> file (a storage reopened without LoadAll); null when absent.</summary>
    private async Task<MetaState?> ReadMetaAsync(string id, CancellationToken cancellationToken)
    {
        if (_metas.TryGetValue(id, out var cached))
        {
            return cached;
        }
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(_settings.MetaPath(id), cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        if (!File.Exists(_settings.EnvelopePath(id)))
        {
            // A lone .meta is an unfinished write or remove, not a message.
            return null;
        }
        var meta = MetaFormat.Decode(bytes, id);
        _metas[id] = meta;
        return meta;
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("{Queue} could not delete {Path}: {Message}", _settings.Name, path, e.Message);
        }
    }

    /// <summary>
    /// A full disk or exhausted quota becomes one recognisable error (IOException with HResult
    /// ENOSPC) that the queue engine answers with 452 4.3.1 (RFC 3463: mail system full).
    /// </summary>
    private Exception Normalize(Exception e, string id)
    {
        if (IsDiskFull(e))
        {
            _log.LogError("{Queue} id={Id} the spool is full ({Message}); the message is refused with 452 and nothing stored is touched", _settings.Name, id, e.Message);
            return new IOException($"{_settings.Name}: no space left for the spool in '{_settings.TmpDir}': {e.Message}", Posix.NoSpace);
        }
        return e;
    }

    internal static bool IsDiskFull(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is IOException io && (io.HResult is Posix.NoSpace or Posix.QuotaExceeded
                || io.HResult == unchecked((int)0x80070070) || io.HResult == unchecked((int)0x80070027)))
            {
                return true;
            }
        }
        return false;
    }
}
