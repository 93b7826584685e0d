using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Slimta.Smtp.Client;
using static Slimta.Smtp.Tests.Client.ScriptedSmtpServer;

namespace Slimta.Smtp.Tests.Client;

public sealed class SmtpClientTlsTests
{
    private const string Greeting = "220 mx.test ESMTP\r\n";
    private const string EhloCmd = "EHLO client.test\r\n";

    private static SslClientAuthenticationOptions TrustTestCa() => new()
    {
        TargetHost = "localhost",
        RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0 || certificate is null)
            {
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(TestCertificate.Ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        },
    };

    private static async Task<SmtpClient> OpenAsync(ScriptedSmtpServer server)
    {
        var client = await SmtpClient.ConnectAsync("127.0.0.1", server.Port, new SmtpClientOptions { EhloName = "client.test" }, CancellationToken.None);
        await client.ReadGreetingAsync(CancellationToken.None);
        await client.EhloAsync(CancellationToken.None);
        return client;
    }

    [Fact]
    public async Task StartTlsAsync_TrustedCertificate_EncryptsAndSaysEhloAgain()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("220 2.0.0 go ahead\r\n"), Tls(TestCertificate.Server),
            Expect(EhloCmd), Send("250-mx.test\r\n250 AUTH PLAIN\r\n"),
            Expect("NOOP\r\n"), Send("250 ok\r\n"));
        await using var client = await OpenAsync(server);

        var reply = await client.StartTlsAsync(TrustTestCa(), CancellationToken.None);
        var noop = await client.NoopAsync(CancellationToken.None);

        Assert.Equal(250, reply.Code);
        Assert.True(client.IsEncrypted);
        Assert.False(client.Extensions.StartTls);
        Assert.Equal(["PLAIN"], client.Extensions.AuthMechanisms);
        Assert.Equal(250, noop.Code);
        await server.Completion;
    }

    [Fact]
    public async Task StartTlsAsync_UntrustedCertificate_ThrowsAndBreaksSession()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("220 go ahead\r\n"), TlsRejected(TestCertificate.Server));
        await using var client = await OpenAsync(server);

        await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() =>
            client.StartTlsAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, CancellationToken.None));

        Assert.True(client.IsBroken);
        Assert.False(client.IsEncrypted);
    }

    [Fact]
    public async Task StartTlsAsync_PlaintextSentAfter220_RefusesToContinue()
    {
        // Bytes sent in plaintext after the 220 must never be read as if they came through TLS
        // (the STARTTLS command injection class, CVE-2011-0411).
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("220 go ahead\r\n250 injected\r\n"), Hang());
        await using var client = await OpenAsync(server);

        await Assert.ThrowsAsync<SmtpProtocolException>(() => client.StartTlsAsync(TrustTestCa(), CancellationToken.None));

        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task StartTlsAsync_Refused454_ReturnsReplyAndStaysPlaintext()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 STARTTLS\r\n"),
            Expect("STARTTLS\r\n"), Send("454 4.7.0 TLS not available\r\n"));
        await using var client = await OpenAsync(server);

        var reply = await client.StartTlsAsync(TrustTestCa(), CancellationToken.None);

        Assert.Equal(454, reply.Code);
        Assert.False(client.IsEncrypted);
        Assert.False(client.IsBroken);
        await server.Completion;
    }
}
