namespace Slimta.Plugins.Rackspace.Tests.FakeRackspace;

/// <summary>An object in the fake Cloud Files: bytes, content type, X-Object-Meta-* (names as Swift title-cases them).</summary>
public sealed record SwiftObject(byte[] Body, string ContentType, IReadOnlyDictionary<string, string> Metadata, DateTimeOffset LastModified);
