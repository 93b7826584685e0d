namespace Slimta.Plugins.Rackspace.Tests.FakeRackspace;

/// <summary>One request the fake answered.</summary>
public sealed record FakeRequestLog(string Method, string Path, int Status, string? ClientId, string? ProjectId);
