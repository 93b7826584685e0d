using Slimta.Abstractions.Envelopes;
using Slimta.Plugins.Rackspace.Tests.FakeRackspace;
using static Slimta.Plugins.Rackspace.Tests.RackspaceOptions;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>How the storage uses Cloud Files: container creation, metadata updates, listing pages.</summary>
public sealed class CloudFilesTests(FakeServerFixture fixture) : IClassFixture<FakeServerFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private FakeRackspaceServer Server => fixture.Server;

    private static Envelope NewEnvelope(string id, int recipients = 1) =>
        new("a@example.com", Enumerable.Range(0, recipients).Select(i => $"r{i}@example.com"), RawMessage.FromString("Subject: files\r\n\r\n")) { Id = id };

    [Fact]
    public async Task WriteAsync_NewContainer_CreatedOnceThenReused()
    {
        var container = NewName("c");
        Assert.Null(Server.ObjectNames(container));
        await using (var first = Create(Server, container))
        {
            await first.WriteAsync("m1", NewEnvelope("m1"), DateTimeOffset.UtcNow, Ct);
        }
        await using (var second = Create(Server, container))
        {
            await second.WriteAsync("m2", NewEnvelope("m2"), DateTimeOffset.UtcNow, Ct);
        }
        var puts = Server.Requests.Where(r => r.Method == "PUT" && r.Path.EndsWith("/" + container, StringComparison.Ordinal)).Select(r => r.Status).ToList();
        Assert.Equal([201, 202], puts);
        Assert.Equal(["m1", "m2"], Server.ObjectNames(container));
    }

    [Fact]
    public async Task Updates_EachPost_RewritesEveryMetadataHeader()
    {
        var container = NewName("c");
        await using var storage = Create(Server, container);
        var when = DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_123);
        await storage.WriteAsync("m", NewEnvelope("m", 3), when, Ct);
        Assert.Equal("1790000000.123", Server.GetObject(container, "m")!.Metadata["Timestamp"]);
        await storage.SetRecipientsDeliveredAsync("m", [0, 2], Ct);
        await storage.IncrementAttemptsAsync("m", Ct);
        await storage.SetNextAttemptAsync("m", when.AddSeconds(60), Ct);
        var meta = Server.GetObject(container, "m")!.Metadata;
        Assert.Equal("1790000060.123", meta["Timestamp"]);
        Assert.Equal("1", meta["Attempts"]);
        Assert.Equal("0,2", meta["Delivered-Rcpts"]);
    }

    [Fact]
    public async Task LoadAllAsync_ListingCappedBelowPage_FollowsMarkersToTheEnd()
    {
        await using var server = new FakeRackspaceServer { ListingLimit = 7 };
        var container = NewName("c");
        await using var storage = Create(server, container);
        var ids = Enumerable.Range(0, 20).Select(i => $"{i:d2}{Guid.NewGuid():N}"[..32]).ToList();
        foreach (var id in ids)
        {
            await storage.WriteAsync(id, NewEnvelope(id), DateTimeOffset.UtcNow, Ct);
        }
        var loaded = new List<string>();
        await foreach (var m in storage.LoadAllAsync(Ct))
        {
            loaded.Add(m.Id);
        }
        Assert.Equal(ids.Order(StringComparer.Ordinal), loaded);
        Assert.Equal(4, server.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith("/" + container, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task IncrementAttemptsAsync_MissingObject_ThrowsKeyNotFound()
    {
        await using var storage = Create(Server, NewName("c"));
        await storage.WriteAsync("m", NewEnvelope("m"), DateTimeOffset.UtcNow, Ct);
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await storage.IncrementAttemptsAsync("gone", Ct));
    }
}
