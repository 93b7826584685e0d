using Slimta.Abstractions.Envelopes;
using Slimta.Testing;

namespace Slimta.Plugins.Disk.Tests;

/// <summary>Files of removed messages are reused for new ones (no inode churn) without changing what is stored.</summary>
public sealed class DiskRecyclingTests : IDisposable
{
    private static readonly DateTimeOffset When = new(2026, 11, 29, 3, 0, 0, TimeSpan.Zero);
    private readonly string _root = TestPaths.NewTempDir("disk-recycle");

    private string Env => Path.Combine(_root, "env");

    private string Tmp => Path.Combine(_root, "env", "tmp");

    public void Dispose() => Directory.Delete(_root, true);

    private static string NewId() => Guid.NewGuid().ToString("N");

    private static Envelope Sample(string id, string body) =>
        new("from@example.com", ["a@example.com"], RawMessage.FromString($"Subject: t\r\n\r\n{body}\r\n")) { Id = id };

    private string[] Recycled() => Directory.GetFiles(Tmp, "recycled-*.tmp");

    /// <summary>The file's inode number (Linux: the "ino:" line of /proc/self/fdinfo for an open descriptor).</summary>
    private static long Inode(string path)
    {
        using var handle = File.OpenHandle(path);
        var line = File.ReadAllLines($"/proc/self/fdinfo/{handle.DangerousGetHandle()}").Single(l => l.StartsWith("ino:", StringComparison.Ordinal));
        return long.Parse(line[4..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private long[] Inodes(string id) => [Inode(Path.Combine(Env, id + ".env")), Inode(Path.Combine(_root, "meta", id + ".meta"))];

    [Fact]
    public async Task WriteAsync_RightAfterRemove_DoesNotReuseUntilDirectoriesFsynced()
    {
        await using var storage = DiskTestKit.Create(_root);
        var a = NewId();
        await storage.WriteAsync(a, Sample(a, "a"), When, CancellationToken.None);
        var aInodes = Inodes(a);

        await storage.RemoveAsync(a, CancellationToken.None);
        Assert.Equal(2, storage.RecycledWaiting);
        Assert.Equal(0, storage.RecycledCount);

        // The next write starts before any directory fsync that began after the removal: it must
        // not overwrite a's blocks, whose old names could still come back after a power loss.
        var b = NewId();
        await storage.WriteAsync(b, Sample(b, "b"), When, CancellationToken.None);
        Assert.Empty(Inodes(b).Intersect(aInodes));

        // b's own directory fsyncs began after the removal: now a's files are reused.
        Assert.Equal(2, storage.RecycledCount);
        var c = NewId();
        await storage.WriteAsync(c, Sample(c, "c"), When, CancellationToken.None);
        Assert.Equal(aInodes.Order(), Inodes(c).Order());
        Assert.Equal("Subject: t\r\n\r\nc\r\n", System.Text.Encoding.ASCII.GetString((await storage.GetAsync(c, CancellationToken.None))!.Envelope.Message.Bytes.Span));
    }

    [Fact]
    public async Task UpdateAsync_AfterRemove_MetaDirFsyncAloneDoesNotMakeReuseSafe()
    {
        await using var storage = DiskTestKit.Create(_root);
        var a = NewId();
        var x = NewId();
        await storage.WriteAsync(a, Sample(a, "a"), When, CancellationToken.None);
        await storage.WriteAsync(x, Sample(x, "x"), When, CancellationToken.None);
        var aInodes = Inodes(a);
        await storage.RemoveAsync(a, CancellationToken.None);

        // Updates fsync meta_dir only: a's .env left envelope_dir, which nothing has fsynced since.
        await storage.SetNextAttemptAsync(x, When.AddMinutes(1), CancellationToken.None);
        await storage.SetNextAttemptAsync(x, When.AddMinutes(2), CancellationToken.None);

        Assert.DoesNotContain(Inode(Path.Combine(_root, "meta", x + ".meta")), aInodes);
        Assert.Equal(0, storage.RecycledCount);
    }

    [Fact]
    public async Task RemoveAsync_DeliveredMessage_FilesMoveToTmpForReuse()
    {
        await using var storage = DiskTestKit.Create(_root);
        var id = NewId();
        await storage.WriteAsync(id, Sample(id, "one"), When, CancellationToken.None);

        await storage.RemoveAsync(id, CancellationToken.None);

        Assert.False(File.Exists(Path.Combine(Env, id + ".env")));
        Assert.False(File.Exists(Path.Combine(_root, "meta", id + ".meta")));
        Assert.Equal(2, Recycled().Length);
        Assert.Null(await storage.GetAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task WriteAsync_AfterRemovingLongerMessage_ReusesInodeAndStoresExactBytes()
    {
        await using var storage = DiskTestKit.Create(_root);
        var first = NewId();
        await storage.WriteAsync(first, Sample(first, new string('x', 5000)), When, CancellationToken.None);
        long oldInode = Inode(Path.Combine(Env, first + ".env"));
        await storage.RemoveAsync(first, CancellationToken.None);
        var filler = NewId();
        await storage.WriteAsync(filler, Sample(filler, "f"), When, CancellationToken.None);   // its fsyncs make the removal durable

        var second = NewId();
        var envelope = Sample(second, "short");
        await storage.WriteAsync(second, envelope, When, CancellationToken.None);

        var inodes = new[] { Inode(Path.Combine(Env, second + ".env")), Inode(Path.Combine(_root, "meta", second + ".meta")) };
        Assert.Contains(oldInode, inodes);
        Assert.Empty(Recycled());
        var stored = await storage.GetAsync(second, CancellationToken.None);
        Assert.Equal(envelope.Message.Bytes.ToArray(), stored!.Envelope.Message.Bytes.ToArray());
        Assert.Equal(0, stored.Attempts);
        Assert.Equal(When, stored.NextAttempt);
    }

    [Fact]
    public async Task RemoveAsync_LargeMessage_UnlinkedNotKept()
    {
        await using var storage = DiskTestKit.Create(_root);
        var id = NewId();
        await storage.WriteAsync(id, Sample(id, new string('y', (int)RecycledFiles.MaxFileSize + 1)), When, CancellationToken.None);

        await storage.RemoveAsync(id, CancellationToken.None);

        // The small .meta is kept for reuse, the large .env is not.
        Assert.Single(Recycled());
        Assert.True(new FileInfo(Recycled()[0]).Length < 1024);
    }

    [Fact]
    public async Task DisposeAsync_WithRecycledFiles_LeavesTmpEmpty()
    {
        var storage = DiskTestKit.Create(_root);
        var ids = Enumerable.Range(0, 5).Select(_ => NewId()).ToArray();
        foreach (var id in ids)
        {
            await storage.WriteAsync(id, Sample(id, id), When, CancellationToken.None);
        }
        foreach (var id in ids)
        {
            await storage.RemoveAsync(id, CancellationToken.None);
        }
        Assert.Equal(10, Recycled().Length);

        await storage.DisposeAsync();

        Assert.Empty(Directory.GetFiles(Tmp));
    }

    [Fact]
    public async Task LoadAllAsync_RecycledFilesLeftByCrash_RemovedAndMessagesIntact()
    {
        var kept = NewId();
        var storage = DiskTestKit.Create(_root);
        await storage.WriteAsync(kept, Sample(kept, "stays"), When, CancellationToken.None);
        var gone = NewId();
        await storage.WriteAsync(gone, Sample(gone, "goes"), When, CancellationToken.None);
        await storage.RemoveAsync(gone, CancellationToken.None);
        // A crash: the process dies without DisposeAsync, so the recycled files stay in tmp_dir.
        var leftovers = Recycled().ToDictionary(p => p, File.ReadAllBytes);
        await storage.DisposeAsync();
        foreach (var (path, bytes) in leftovers)
        {
            await File.WriteAllBytesAsync(path, bytes);
        }

        await using var restarted = DiskTestKit.Create(_root);
        var loaded = await DiskTestKit.LoadAllAsync(restarted);

        Assert.Equal([kept], loaded.Select(m => m.Id));
        Assert.Empty(Recycled());
        var stored = await restarted.GetAsync(kept, CancellationToken.None);
        Assert.Equal("Subject: t\r\n\r\nstays\r\n", System.Text.Encoding.ASCII.GetString(stored!.Envelope.Message.Bytes.Span));
    }
}
