using System.Net;
using Slimta.Abstractions.Envelopes;
using Slimta.Testing;

namespace Slimta.Plugins.Disk.Tests;

/// <summary>Startup recovery: restart with pending mail, leftovers cleaned, damaged files quarantined without stopping anything.</summary>
public sealed class DiskRecoveryTests : IDisposable
{
    private static readonly DateTimeOffset When = new(2026, 11, 28, 21, 0, 0, 250, TimeSpan.FromHours(1));
    private readonly string _root = TestPaths.NewTempDir("disk-recovery");

    private string Env => Path.Combine(_root, "env");

    private string Meta => Path.Combine(_root, "meta");

    private string Quarantine => Path.Combine(_root, "env", "quarantine");

    private string Tmp => Path.Combine(_root, "env", "tmp");

    public void Dispose() => Directory.Delete(_root, true);

    private static Envelope Sample(string id, string text = "hello") =>
        new("from@example.com", ["a@example.com", "b@example.com", "c@example.com"], RawMessage.FromString($"Subject: {text}\r\n\r\n{text}\r\n"))
        {
            Id = id,
            Client = new ClientInfo(IPAddress.Loopback, 2525, null, "client.test", "ESMTP", null),
        };

    /// <summary>Writes messages and closes the storage, as before a crash or restart.</summary>
    private async Task<string[]> SeedAsync(int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        var storage = DiskTestKit.Create(_root);
        await using (storage)
        {
            for (int i = 0; i < count; i++)
            {
                await storage.WriteAsync(ids[i], Sample(ids[i], "m" + i), When.AddSeconds(i), CancellationToken.None);
            }
        }
        return ids;
    }

    private async Task<List<string>> ReloadAsync()
    {
        await using var storage = DiskTestKit.Create(_root);
        return (await DiskTestKit.LoadAllAsync(storage)).Select(m => m.Id).Order().ToList();
    }

    [Fact]
    public async Task LoadAllAsync_RestartWithPendingMessages_KeepsTimeAttemptsAndDelivered()
    {
        var ids = await SeedAsync(2);
        await using (var storage = DiskTestKit.Create(_root))
        {
            await storage.IncrementAttemptsAsync(ids[0], CancellationToken.None);
            await storage.IncrementAttemptsAsync(ids[0], CancellationToken.None);
            await storage.SetRecipientsDeliveredAsync(ids[0], [2], CancellationToken.None);
            await storage.SetNextAttemptAsync(ids[0], When.AddHours(2), CancellationToken.None);
        }
        await using var reopened = DiskTestKit.Create(_root);
        var all = (await DiskTestKit.LoadAllAsync(reopened)).ToDictionary(m => m.Id, m => m.NextAttempt);
        Assert.Equal(ids.Order(), all.Keys.Order());
        Assert.Equal(When.AddHours(2), all[ids[0]]);
        Assert.Equal(When.AddSeconds(1), all[ids[1]]);
        var stored = await reopened.GetAsync(ids[0], CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(2, stored.Attempts);
        Assert.Equal([2], stored.Delivered);
        Assert.Equal("Subject: m0\r\n\r\nm0\r\n", System.Text.Encoding.UTF8.GetString(stored.Envelope.Message.Bytes.Span));
        Assert.Empty(Directory.GetFiles(Quarantine));
    }

    [Fact]
    public async Task LoadAllAsync_LeftoverTempFiles_RemovedForeignFilesKept()
    {
        var ids = await SeedAsync(1);
        var leftover = Path.Combine(Tmp, Guid.NewGuid().ToString("N") + ".env.tmp");
        await File.WriteAllTextAsync(leftover, "half a message");
        var foreign = Path.Combine(Tmp, "someone-elses-file");
        await File.WriteAllTextAsync(foreign, "keep me");
        Assert.Equal(ids, await ReloadAsync());
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(foreign));
    }

    [Fact]
    public async Task LoadAllAsync_MetaWithoutEnvelope_DeletedAsUnfinishedWrite()
    {
        var ids = await SeedAsync(2);
        File.Delete(Path.Combine(Env, ids[0] + ".env"));
        Assert.Equal([ids[1]], await ReloadAsync());
        Assert.False(File.Exists(Path.Combine(Meta, ids[0] + ".meta")));
        Assert.Empty(Directory.GetFiles(Quarantine));
    }

    [Fact]
    public async Task LoadAllAsync_EnvelopeWithoutMeta_QuarantinedWithReason()
    {
        var ids = await SeedAsync(2);
        var original = await File.ReadAllBytesAsync(Path.Combine(Env, ids[0] + ".env"));
        File.Delete(Path.Combine(Meta, ids[0] + ".meta"));
        Assert.Equal([ids[1]], await ReloadAsync());
        Assert.False(File.Exists(Path.Combine(Env, ids[0] + ".env")));
        Assert.Equal(original, await File.ReadAllBytesAsync(Path.Combine(Quarantine, ids[0] + ".env")));
        Assert.Contains("no .meta", await File.ReadAllTextAsync(Path.Combine(Quarantine, ids[0] + ".env.reason")));
    }

    [Theory]
    [InlineData(".env", 1)]
    [InlineData(".env", 40)]
    [InlineData(".meta", 1)]
    [InlineData(".meta", 20)]
    public async Task LoadAllAsync_TornFile_BothFilesQuarantinedOthersLoaded(string suffix, int cut)
    {
        var ids = (await SeedAsync(3)).Order().ToArray();
        var path = Path.Combine(suffix == ".env" ? Env : Meta, ids[1] + suffix);
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..^cut]);
        Assert.Equal([ids[0], ids[2]], await ReloadAsync());
        Assert.True(File.Exists(Path.Combine(Quarantine, ids[1] + ".env")));
        Assert.True(File.Exists(Path.Combine(Quarantine, ids[1] + ".meta")));
        var reason = await File.ReadAllTextAsync(Path.Combine(Quarantine, ids[1] + ".env.reason"));
        Assert.True(reason.Contains("checksum mismatch", StringComparison.Ordinal) || reason.Contains("truncated", StringComparison.Ordinal), reason);
    }

    [Fact]
    public async Task LoadAllAsync_OneFlippedByteInMessage_QuarantinedAsChecksumMismatch()
    {
        var ids = await SeedAsync(2);
        var path = Path.Combine(Env, ids[0] + ".env");
        var bytes = await File.ReadAllBytesAsync(path);
        int at = bytes.AsSpan().IndexOf("m0\r\n"u8);
        bytes[at] ^= 0x20;
        await File.WriteAllBytesAsync(path, bytes);
        Assert.Equal([ids[1]], await ReloadAsync());
        Assert.Contains("checksum mismatch", await File.ReadAllTextAsync(Path.Combine(Quarantine, ids[0] + ".env.reason")));
    }

    [Fact]
    public async Task LoadAllAsync_UnknownFormatVersion_QuarantinedNamingVersion()
    {
        var ids = await SeedAsync(1);
        var path = Path.Combine(Meta, ids[0] + ".meta");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[8] = 9;
        await File.WriteAllBytesAsync(path, bytes);
        Assert.Empty(await ReloadAsync());
        Assert.Contains("version 9", await File.ReadAllTextAsync(Path.Combine(Quarantine, ids[0] + ".env.reason")));
    }

    [Fact]
    public async Task LoadAllAsync_FileNameNotAnId_Quarantined()
    {
        var ids = await SeedAsync(1);
        await File.WriteAllTextAsync(Path.Combine(Env, "hello.env"), "not ours");
        Assert.Equal(ids, await ReloadAsync());
        Assert.True(File.Exists(Path.Combine(Quarantine, "hello.env")));
    }

    [Fact]
    public async Task LoadAllAsync_SwappedFiles_QuarantinedAsWrongId()
    {
        var ids = (await SeedAsync(2)).ToArray();
        File.Copy(Path.Combine(Env, ids[0] + ".env"), Path.Combine(Env, ids[1] + ".env"), overwrite: true);
        Assert.Equal([ids[0]], await ReloadAsync());
        Assert.Contains($"holds id {ids[0]}", await File.ReadAllTextAsync(Path.Combine(Quarantine, ids[1] + ".env.reason")));
    }

    [Fact]
    public async Task GetAsync_EnvelopeDamagedAfterStartup_QuarantinedAndNull()
    {
        var ids = await SeedAsync(1);
        await using var storage = DiskTestKit.Create(_root);
        Assert.Single(await DiskTestKit.LoadAllAsync(storage));
        var path = Path.Combine(Env, ids[0] + ".env");
        await File.WriteAllBytesAsync(path, (await File.ReadAllBytesAsync(path))[..^3]);
        Assert.Null(await storage.GetAsync(ids[0], CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(Quarantine, ids[0] + ".env")));
    }
}
