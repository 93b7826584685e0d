using Slimta.Plugins.Rackspace.Tests.FakeRackspace;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>One fake Rackspace (real clock) shared by the tests of a class; tests use containers and queues of their own.</summary>
public sealed class FakeServerFixture : IAsyncLifetime
{
    public FakeRackspaceServer Server { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
