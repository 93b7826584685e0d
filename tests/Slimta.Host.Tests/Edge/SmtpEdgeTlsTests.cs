using Slimta.Testing;

namespace Slimta.Host.Tests.Edge;

public class SmtpEdgeTlsTests
{
    internal static Dictionary<string, object?> Tls => new() { ["certfile"] = TestCertificates.CertFile, ["keyfile"] = TestCertificates.KeyFile };

    private static async Task<RawSmtpClient> SecureAsync(EdgeFixture edge)
    {
        var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\n");
        await client.ExpectAsync("250-");
        await client.SendAsync("STARTTLS\r\n");
        await client.ExpectAsync("220 2.0.0");
        await client.StartTlsAsync();
        return client;
    }

    [Fact]
    public async Task Ehlo_TlsConfigured_AdvertisesStartTlsOnlyBeforeTls()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls });
        await using var client = await SecureAsync(edge);
        await client.SendAsync("EHLO client.test\r\n");
        var ehlo = await client.ExpectAsync("250-");
        Assert.DoesNotContain("STARTTLS", ehlo);

        await using var plain = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await plain.ExpectAsync("220 ");
        await plain.SendAsync("EHLO client.test\r\n");
        Assert.Contains("STARTTLS", await plain.ExpectAsync("250-"));
    }

    [Fact]
    public async Task Ehlo_NoTls_DoesNotAdvertiseStartTlsAndStartTlsIs502()
    {
        await using var edge = await EdgeFixture.StartAsync();
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\n");
        Assert.DoesNotContain("STARTTLS", await client.ExpectAsync("250"));
        await client.SendAsync("STARTTLS\r\n");
        await client.ExpectAsync("502 ");
    }

    [Fact]
    public async Task StartTls_PipelinedPlaintext_IsDiscardedAndStateReset()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\n");
        await client.ExpectAsync("250-");
        // CVE-2011-0411: commands injected after STARTTLS in the same packet must not run under TLS.
        await client.SendAsync("STARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\n");
        await client.ExpectAsync("220 2.0.0");
        await client.StartTlsAsync();
        // The injected MAIL was dropped and the session reset: MAIL needs a new EHLO first.
        await client.SendAsync("MAIL FROM:<a@client.test>\r\n");
        await client.ExpectAsync("503 ");
        await client.SendAsync("EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@remote.test>\r\nDATA\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("250 2.1.0");
        await client.ExpectAsync("250 2.1.5");
        await client.ExpectAsync("354");
        await client.SendAsync("Subject: tls\r\n\r\nsecret\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0");
        var envelope = Assert.Single(edge.Queue.Envelopes);
        Assert.Equal("a@client.test", envelope.Sender);
        Assert.Equal("ESMTPS", envelope.Client.Protocol);
    }

    [Fact]
    public async Task StartTls_WithParameter_Is501()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\nSTARTTLS now\r\nNOOP\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("501 ");
        await client.ExpectAsync("250 ");
    }

    [Fact]
    public async Task StartTls_BeforeEhlo_Is503()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("STARTTLS\r\n");
        await client.ExpectAsync("503 ");
    }

    [Fact]
    public async Task StartTls_AlreadyInTls_Is503()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls });
        await using var client = await SecureAsync(edge);
        await client.SendAsync("EHLO client.test\r\nSTARTTLS\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("503 ");
    }

    [Fact]
    public async Task StartTls_HandshakeFailure_ClosesAndNextClientIsServed()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls });
        await using (var client = await RawSmtpClient.ConnectAsync(edge.EndPoint))
        {
            await client.ExpectAsync("220 ");
            await client.SendAsync("EHLO client.test\r\nSTARTTLS\r\n");
            await client.ExpectAsync("250-");
            await client.ExpectAsync("220 2.0.0");
            await client.SendAsync("this is not a TLS ClientHello\r\n\r\n\r\n");
            Assert.True(await client.IsClosedAsync());
        }
        await using var next = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await next.ExpectAsync("220 ");
    }

    [Fact]
    public async Task TlsImmediately_HandshakesBeforeGreeting()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls, ["tls_immediately"] = "true" });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.StartTlsAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\n");
        Assert.DoesNotContain("STARTTLS", await client.ExpectAsync("250"));
        await client.SendAsync("STARTTLS\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@remote.test>\r\nDATA\r\n");
        await client.ExpectAsync("503 ");
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("354");
        await client.SendAsync("Subject: x\r\n\r\nbody\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0");
        Assert.Equal("ESMTPS", Assert.Single(edge.Queue.Envelopes).Client.Protocol);
    }

    [Fact]
    public async Task TlsImmediately_PlaintextClient_IsClosed()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls, ["tls_immediately"] = "true" });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.SendAsync("EHLO client.test\r\n\r\n\r\n\r\n\r\n\r\n");
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task RequireTls_MailBeforeStartTls_Is530()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls, ["rules"] = new Dictionary<string, object?> { ["require_tls"] = "true" } });
        await using (var plain = await RawSmtpClient.ConnectAsync(edge.EndPoint))
        {
            await plain.ExpectAsync("220 ");
            await plain.SendAsync("EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n");
            await plain.ExpectAsync("250-");
            await plain.ExpectAsync("530 5.7.0");
        }
        await using var client = await SecureAsync(edge);
        await client.SendAsync("EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("250 2.1.0");
    }

    [Fact]
    public async Task StartTls_ClientNeverHandshakes_ClosedAtCommandTimeout()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls, ["command_timeout"] = 30 });
        await using var client = await RawSmtpClient.ConnectAsync(edge.EndPoint);
        await client.ExpectAsync("220 ");
        await client.SendAsync("EHLO client.test\r\nSTARTTLS\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("220 2.0.0");
        // The handshake deadline is armed just after the 220 is flushed: keep the fake clock
        // moving until the server gives up on the silent client.
        using var done = new CancellationTokenSource();
        var ticker = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                edge.Time.Advance(TimeSpan.FromSeconds(10));
                await Task.Delay(20);
            }
        });
        try
        {
            Assert.True(await client.IsClosedAsync());
        }
        finally
        {
            await done.CancelAsync();
            await ticker;
        }
    }

    [Fact]
    public async Task StopAsync_IdleSessionUnderTls_Gets421OverTls()
    {
        var edge = await EdgeFixture.StartAsync(new() { ["tls"] = Tls });
        await using (edge)
        {
            await using var client = await SecureAsync(edge);
            await client.SendAsync("EHLO client.test\r\n");
            await client.ExpectAsync("250-");
            await edge.Edge.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            await client.ExpectAsync("421 4.3.2");
            Assert.True(await client.IsClosedAsync());
        }
    }
}
