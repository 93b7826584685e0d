using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Envelopes;
using Slimta.Plugins.Rackspace.Tests.FakeRackspace;
using static Slimta.Plugins.Rackspace.Tests.RackspaceOptions;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>Identity v2.0: credentials, service catalog regions, token caching, renewal and re-authentication on 401.</summary>
public sealed class IdentityTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static Envelope NewEnvelope(string id) =>
        new("a@example.com", ["b@example.com"], RawMessage.FromString("Subject: x\r\n\r\nbody\r\n")) { Id = id };

    private static async Task<string> WriteOneAsync(RackspaceStorage storage, DateTimeOffset? when = null)
    {
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, NewEnvelope(id), when ?? DateTimeOffset.UtcNow, Ct);
        return id;
    }

    [Fact]
    public async Task WriteAsync_ApiKey_AuthenticatesOnceForManyCalls()
    {
        await using var server = new FakeRackspaceServer();
        await using var storage = Create(server, NewName("c"));
        for (int i = 0; i < 5; i++)
        {
            var id = await WriteOneAsync(storage);
            Assert.NotNull(await storage.GetAsync(id, Ct));
        }
        Assert.Equal(1, server.Authentications);
        Assert.Equal(1, storage.Identity.Authentications);
    }

    [Fact]
    public async Task WriteAsync_Password_UsesPasswordCredentials()
    {
        await using var server = new FakeRackspaceServer();
        var container = NewName("c");
        var options = Options(("type", "rackspace"), ("endoint", server.IdentityUrl), ("username", FakeRackspaceServer.Username), ("password", FakeRackspaceServer.Password), ("container_name", container));
        await using var storage = Create(options);
        var id = await WriteOneAsync(storage);
        Assert.Equal([id], server.ObjectNames(container));
    }

    [Fact]
    public async Task WriteAsync_WrongApiKey_ThrowsWithoutTheKey()
    {
        await using var server = new FakeRackspaceServer();
        var container = NewName("c");
        var options = Options(("type", "rackspace"), ("endpoint", server.IdentityUrl), ("username", FakeRackspaceServer.Username), ("api_key", "wrong-key-42"), ("container_name", container));
        await using var storage = Create(options);
        var e = await Assert.ThrowsAsync<RackspaceException>(() => WriteOneAsync(storage));
        Assert.Contains("refused the credentials", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key-42", e.Message, StringComparison.Ordinal);
        Assert.Null(server.ObjectNames(container));
    }

    [Fact]
    public async Task WriteAsync_RegionOrd_StoresInOrdEndpoint()
    {
        await using var server = new FakeRackspaceServer();
        var container = NewName("c");
        await using var storage = Create(server, container, null, null, ("region", "ord"));
        var id = await WriteOneAsync(storage);
        Assert.Equal([id], server.ObjectNames(container, "ORD"));
        Assert.Null(server.ObjectNames(container, "DFW"));
    }

    [Fact]
    public async Task WriteAsync_NoRegion_UsesUserDefaultRegion()
    {
        await using var server = new FakeRackspaceServer();
        var container = NewName("c");
        await using var storage = Create(server, container);
        var id = await WriteOneAsync(storage);
        Assert.Equal([id], server.ObjectNames(container, "DFW"));
    }

    [Fact]
    public async Task WriteAsync_UnknownRegion_ThrowsNamingRegion()
    {
        await using var server = new FakeRackspaceServer();
        await using var storage = Create(server, NewName("c"), null, null, ("region", "SYD"));
        var e = await Assert.ThrowsAsync<RackspaceException>(() => WriteOneAsync(storage));
        Assert.Contains("SYD", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_NearExpiry_RenewedBeforeItExpires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new FakeRackspaceServer(time) { TokenLifetime = TimeSpan.FromHours(1) };
        await using var storage = Create(server, NewName("c"), null, time);
        await WriteOneAsync(storage, time.GetUtcNow());
        time.Advance(TimeSpan.FromMinutes(50));
        await WriteOneAsync(storage, time.GetUtcNow());
        Assert.Equal(1, server.Authentications);
        time.Advance(TimeSpan.FromMinutes(6)); // within the 5 minutes before expiry
        await WriteOneAsync(storage, time.GetUtcNow());
        Assert.Equal(2, server.Authentications);
        Assert.DoesNotContain(server.Requests, r => r.Status == 401);
    }

    [Fact]
    public async Task Token_RevokedMidRun_ReauthenticatesOnceAndNothingIsLost()
    {
        await using var server = new FakeRackspaceServer();
        var container = NewName("c");
        await using var storage = Create(server, container);
        var ids = new List<string> { await WriteOneAsync(storage) };
        server.ExpireAllTokens();
        ids.AddRange(await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => WriteOneAsync(storage))));
        Assert.Equal(2, server.Authentications);
        Assert.Contains(server.Requests, r => r.Status == 401);
        Assert.Equal(ids.Order(), server.ObjectNames(container)!.Order());
    }
}
