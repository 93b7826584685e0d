using System.Security.Cryptography.X509Certificates;
using Slimta.Abstractions.Envelopes;
using Slimta.Plugins.Rackspace.Tests.FakeRackspace;
using Slimta.Testing;
using static Slimta.Plugins.Rackspace.Tests.RackspaceOptions;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>The <c>tls</c> options against the fake served over TLS with the test certificate (self-signed, 127.0.0.1).</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private FakeRackspaceServer _server = null!;

    public Task InitializeAsync()
    {
        using var pem = X509Certificate2.CreateFromPemFile(TestCertificates.CertFile, TestCertificates.KeyFile);
        // Through PKCS#12 so the key is usable by SslStream on every platform.
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        _server = new FakeRackspaceServer(null, certificate);
        Assert.StartsWith("https://", _server.IdentityUrl, StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task WriteAsync(RackspaceStorage storage)
    {
        var id = Guid.NewGuid().ToString("N");
        await storage.WriteAsync(id, new Envelope("a@example.com", ["b@example.com"], RawMessage.FromString("Subject: tls\r\n\r\n")) { Id = id }, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.NotNull(await storage.GetAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task WriteAsync_CaFileTrustsServer_Works()
    {
        var name = NewName("t");
        await using var storage = Create(_server, name, name, null, ("tls", new (string, object)[] { ("ca_file", TestCertificates.CertFile) }));
        await WriteAsync(storage);
        Assert.Single(_server.ObjectNames(name)!);
        Assert.Single(_server.QueueMessages(name));
    }

    [Fact]
    public async Task WriteAsync_UntrustedCertificate_FailsWithoutSendingCredentials()
    {
        var name = NewName("t");
        await using var storage = Create(_server, name);
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => WriteAsync(storage));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(e.InnerException);
        Assert.Equal(0, _server.Authentications);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task WriteAsync_VerifyFalse_Works()
    {
        var name = NewName("t");
        await using var storage = Create(_server, name, null, null, ("tls", new (string, object)[] { ("verify", "false") }));
        await WriteAsync(storage);
        Assert.Single(_server.ObjectNames(name)!);
    }
}
