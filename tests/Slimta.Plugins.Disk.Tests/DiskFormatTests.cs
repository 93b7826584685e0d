using System.Buffers.Binary;
using Slimta.Abstractions.Envelopes;
using Slimta.Testing;

namespace Slimta.Plugins.Disk.Tests;

/// <summary>The files on disk and the group commit.</summary>
public sealed class DiskFormatTests : IDisposable
{
    private static readonly DateTimeOffset When = new(2026, 11, 28, 21, 0, 0, TimeSpan.Zero);
    private readonly string _root = TestPaths.NewTempDir("disk-format");

    public void Dispose() => Directory.Delete(_root, true);

    [Fact]
    public async Task WriteAsync_Message_EnvFileHasMagicVersionVerbatimBytesAndChecksum()
    {
        var id = Guid.NewGuid().ToString("N");
        var message = "Subject: x\r\n\r\n\0\xff binary\r\n"u8.ToArray();
        await using (var storage = DiskTestKit.Create(_root))
        {
            await storage.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], new RawMessage(message)), When, CancellationToken.None);
        }
        var env = await File.ReadAllBytesAsync(Path.Combine(_root, "env", id + ".env"));
        Assert.Equal("SLIMTA-E"u8.ToArray(), env[..8]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(env.AsSpan(8)));
        // The message is stored as is, right before the 8-byte checksum.
        Assert.Equal(message, env[^(message.Length + 8)..^8]);
        Assert.Equal(message.Length, BinaryPrimitives.ReadInt64LittleEndian(env.AsSpan(env.Length - message.Length - 16)));
        Assert.Equal(System.IO.Hashing.XxHash64.HashToUInt64(env.AsSpan(..^8)), BinaryPrimitives.ReadUInt64LittleEndian(env.AsSpan(env.Length - 8)));
        var meta = await File.ReadAllBytesAsync(Path.Combine(_root, "meta", id + ".meta"));
        Assert.Equal("SLIMTA-M"u8.ToArray(), meta[..8]);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "env", "tmp")));
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWriters_ShareDirectoryFsyncs()
    {
        await using var storage = DiskTestKit.Create(_root);
        const int writers = 64;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            var id = Guid.NewGuid().ToString("N");
            await storage.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], RawMessage.FromString($"Subject: {i}\r\n\r\n")), When, CancellationToken.None);
        })));
        Assert.Equal(writers, storage.EnvelopeSync.Requests);
        Assert.True(storage.EnvelopeSync.Rounds < writers, $"{storage.EnvelopeSync.Rounds} fsyncs of envelope_dir for {writers} writes");
        Assert.Equal(writers, Directory.GetFiles(Path.Combine(_root, "env"), "*.env").Length);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("0123456789abcdef0123456789abcde/")]
    [InlineData("")]
    public async Task WriteAsync_IdNotHex_ThrowsAndWritesNothing(string id)
    {
        await using var storage = DiskTestKit.Create(_root);
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await storage.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], RawMessage.FromString("\r\n")), When, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "env"), "*.env"));
    }

    [Fact]
    public async Task WriteAsync_SameIdTwice_SecondThrowsFirstKept()
    {
        await using var storage = DiskTestKit.Create(_root);
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], RawMessage.FromString("Subject: first\r\n\r\n")), When, CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await storage.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], RawMessage.FromString("Subject: second\r\n\r\n")), When, CancellationToken.None));
        var stored = await storage.GetAsync(id, CancellationToken.None);
        Assert.Equal("Subject: first\r\n\r\n", System.Text.Encoding.UTF8.GetString(stored!.Envelope.Message.Bytes.Span));
    }
}
