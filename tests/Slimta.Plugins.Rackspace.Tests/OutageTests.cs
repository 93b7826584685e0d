using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Queueing;
using Slimta.Plugins.Rackspace.Tests.FakeRackspace;
using static Slimta.Plugins.Rackspace.Tests.RackspaceOptions;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>Outages defer, never drop: calls fail fast (bounded retries and timeouts), the edge answers 451, stored mail waits.</summary>
public sealed class OutageTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static Envelope NewEnvelope(string? id = null) =>
        new("a@example.com", ["b@example.com"], RawMessage.FromString("Subject: outage\r\n\r\nbody\r\n")) { Id = id };

    private static QueueEngine Engine(IQueueStorage storage, IRelay? relay) =>
        new("q", storage, relay, [], null, new BounceBuilder("mta.test", TimeProvider.System), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task WriteAsync_ServerStopped_ThrowsWithinSecondsAndWorksAfterRestart()
    {
        await using var server = new FakeRackspaceServer();
        var container = NewName("c");
        await using var storage = Create(server, container);
        await storage.WriteAsync("a0", NewEnvelope("a0"), DateTimeOffset.UtcNow, Ct);
        server.Stop();
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<HttpRequestException>(async () => await storage.WriteAsync("a1", NewEnvelope("a1"), DateTimeOffset.UtcNow, Ct));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        server.Start();
        await storage.WriteAsync("a2", NewEnvelope("a2"), DateTimeOffset.UtcNow, Ct);
        Assert.Equal(["a0", "a2"], server.ObjectNames(container));
    }

    [Fact]
    public async Task WriteAsync_ServiceAnswers503_RetriedThenThrows()
    {
        await using var server = new FakeRackspaceServer();
        var container = NewName("c");
        await using var storage = Create(server, container);
        await storage.WriteAsync("a0", NewEnvelope("a0"), DateTimeOffset.UtcNow, Ct);
        server.Unavailable = true;
        var e = await Assert.ThrowsAsync<RackspaceException>(async () => await storage.WriteAsync("a1", NewEnvelope("a1"), DateTimeOffset.UtcNow, Ct));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, e.Status);
        Assert.Equal(1 + RackspaceTransport.MaxRetries, server.Requests.Count(r => r.Method == "PUT" && r.Path.EndsWith("/a1", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task WriteAsync_QueuesUnavailable_ThrowsAndTakesObjectBack()
    {
        await using var server = new FakeRackspaceServer();
        var name = NewName("q");
        await using var storage = Create(server, name, name);
        await storage.WriteAsync("a0", NewEnvelope("a0"), DateTimeOffset.UtcNow, Ct);
        server.QueuesUnavailable = true;
        await Assert.ThrowsAsync<RackspaceException>(async () => await storage.WriteAsync("a1", NewEnvelope("a1"), DateTimeOffset.UtcNow, Ct));
        Assert.Equal(["a0"], server.ObjectNames(name));
    }

    [Fact]
    public async Task EnqueueAsync_ServerStopped_RefusedWith451()
    {
        await using var server = new FakeRackspaceServer();
        var name = NewName("q");
        await using var storage = Create(server, name, name);
        await using var edge = Engine(storage, null);
        await edge.StartAsync(Ct);
        server.Stop();
        var result = Assert.Single(await edge.EnqueueAsync(NewEnvelope(), Ct));
        Assert.False(result.IsAccepted);
        Assert.Equal(451, result.Reply?.Code);
    }

    [Fact]
    public async Task Worker_OutageWhileMessagesWait_DeliversEachAfterRecovery()
    {
        await using var server = new FakeRackspaceServer();
        var name = NewName("q");
        await using var edgeStorage = Create(server, name, name);
        await using var workerStorage = Create(server, name, name);
        await using var edge = Engine(edgeStorage, null);
        await edge.StartAsync(Ct);
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            ids.Add(Assert.Single(await edge.EnqueueAsync(NewEnvelope(), Ct)).Id!);
        }
        server.Stop();
        var relay = new CountingRelay("w");
        await using var worker = Engine(workerStorage, relay);
        await worker.StartAsync(Ct);
        await Task.Delay(1500); // the worker's claims fail meanwhile
        Assert.Empty(relay.Calls);
        server.Start();
        // The worker removes a delivered message's objects, then its claimed queue message: wait
        // for both (the last notice can still be there just after the last object went).
        await Wait.UntilAsync(() => relay.Calls.Count >= 3 && server.ObjectNames(name)!.Count == 0 && server.QueueMessages(name).Count == 0,
            TimeSpan.FromSeconds(15), "delivery after the outage");
        Assert.Equal(ids.Order(), relay.Calls.Select(c => c.Id).Order());
        Assert.Empty(server.QueueMessages(name));
    }
}
