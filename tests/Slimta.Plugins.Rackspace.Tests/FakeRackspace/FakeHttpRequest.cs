namespace Slimta.Plugins.Rackspace.Tests.FakeRackspace;

/// <summary>One HTTP/1.1 request as the fake server read it.</summary>
public sealed record FakeHttpRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}
