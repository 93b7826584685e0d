using System.Text;
using Slimta.Smtp.Server;

namespace Slimta.Smtp.Tests.Server;

public class SmtpServerSessionSecurityTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private sealed class OneUser : ISmtpAuthenticator
    {
        public ValueTask<bool> CheckAsync(string username, ReadOnlyMemory<byte> password, CancellationToken cancellationToken) =>
            ValueTask.FromResult(username == "alice" && password.Span.SequenceEqual("pw"u8));
    }

    private static SmtpSecurityOptions Auth(bool plaintext = false, bool requireTls = false) =>
        new() { Authenticator = new OneUser(), AllowPlaintextAuth = plaintext, RequireAuth = true, RequireTls = requireTls };

    private static async Task StartTlsAsync(SessionHarness s)
    {
        await s.SendAsync("STARTTLS\r\n");
        await s.ExpectAsync("220 2.0.0");
        s.Handshake();
    }

    [Fact]
    public async Task StartTls_CommandsPipelinedInPlaintext_AreDiscarded()
    {
        await using var s = new SessionHarness(tls: true);
        await s.GreetAsync();
        await s.SendAsync("STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<evil@attacker.test>\r\n");
        await s.ExpectAsync("220 2.0.0");
        s.Handshake();
        // Had the injected EHLO and MAIL run, RCPT would be accepted.
        await s.SendAsync("RCPT TO:<b@remote.test>\r\n");
        await s.ExpectAsync("503 ");
        Assert.True(s.Session.Info.IsSecure);
        Assert.Null(s.Session.Info.EhloName);
        await s.SendAsync("EHLO client.test\r\n");
        var ehlo = await s.ExpectAsync("250");
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.Equal("ESMTPS", s.Session.Info.Protocol);
    }

    [Fact]
    public async Task StartTls_HandshakeFails_SessionEndsWithoutReply()
    {
        await using var s = new SessionHarness(tls: true);
        await s.GreetAsync();
        await s.SendAsync("STARTTLS\r\n");
        await s.ExpectAsync("220 2.0.0");
        s.Handshake(succeed: false);
        Assert.True(await s.IsClosedAsync());
    }

    [Fact]
    public async Task StartTls_NotConfigured_Is502AndNotAdvertised()
    {
        await using var s = new SessionHarness();
        await s.ExpectAsync("220 ");
        await s.SendAsync("EHLO client.test\r\nSTARTTLS\r\n");
        Assert.DoesNotContain("STARTTLS", await s.ExpectAsync("250"));
        await s.ExpectAsync("502 ");
    }

    [Fact]
    public async Task StartTls_AfterHelo_IsAccepted()
    {
        await using var s = new SessionHarness(tls: true);
        await s.ExpectAsync("220 ");
        await s.SendAsync("HELO client.test\r\n");
        await s.ExpectAsync("250 ");
        await StartTlsAsync(s);
        await s.SendAsync("HELO client.test\r\n");
        await s.ExpectAsync("250 ");
        Assert.Equal("SMTP", s.Session.Info.Protocol);
    }

    [Fact]
    public async Task Auth_BeforeTls_Is538ThenPlainAfterTlsSucceeds()
    {
        await using var s = new SessionHarness(tls: true, security: Auth());
        await s.GreetAsync();
        await s.SendAsync($"AUTH PLAIN {B64("\0alice\0pw")}\r\nMAIL FROM:<a@client.test>\r\n");
        await s.ExpectAsync("538 5.7.11");
        await s.ExpectAsync("530 5.7.0");
        await StartTlsAsync(s);
        await s.SendAsync("EHLO client.test\r\n");
        Assert.Contains("AUTH PLAIN LOGIN", await s.ExpectAsync("250"));
        await s.SendAsync($"AUTH PLAIN {B64("\0alice\0pw")}\r\nMAIL FROM:<a@client.test>\r\n");
        await s.ExpectAsync("235 2.7.0");
        await s.ExpectAsync("250 2.1.0");
        Assert.Equal("alice", s.Session.Info.AuthenticatedUser);
        Assert.Equal("ESMTPSA", s.Session.Info.Protocol);
    }

    [Fact]
    public async Task Auth_RequireTls_Is530BeforeTls()
    {
        await using var s = new SessionHarness(tls: true, security: Auth(plaintext: true, requireTls: true));
        await s.ExpectAsync("220 ");
        await s.SendAsync("EHLO client.test\r\n");
        Assert.DoesNotContain("AUTH", await s.ExpectAsync("250"));
        await s.SendAsync($"AUTH PLAIN {B64("\0alice\0pw")}\r\n");
        await s.ExpectAsync("530 5.7.0");
    }

    [Fact]
    public async Task Auth_PlaintextAllowed_LoginSucceedsAsEsmtpa()
    {
        await using var s = new SessionHarness(security: Auth(plaintext: true));
        await s.GreetAsync();
        await s.SendAsync("AUTH LOGIN\r\n");
        await s.ExpectAsync("334 VXNlcm5hbWU6");
        await s.SendAsync(B64("alice") + "\r\n");
        await s.ExpectAsync("334 UGFzc3dvcmQ6");
        await s.SendAsync(B64("pw") + "\r\n");
        await s.ExpectAsync("235 2.7.0");
        Assert.Equal("ESMTPA", s.Session.Info.Protocol);
    }

    [Fact]
    public async Task Auth_BeforeEhlo_Is503()
    {
        await using var s = new SessionHarness(security: Auth(plaintext: true));
        await s.ExpectAsync("220 ");
        await s.SendAsync($"AUTH PLAIN {B64("\0alice\0pw")}\r\n");
        await s.ExpectAsync("503 ");
    }

    [Fact]
    public async Task Auth_NotConfigured_Is502()
    {
        await using var s = new SessionHarness();
        await s.GreetAsync();
        await s.SendAsync($"AUTH PLAIN {B64("\0alice\0pw")}\r\n");
        await s.ExpectAsync("502 ");
    }

    [Fact]
    public async Task Auth_TooLongResponse_Is500AndSessionGoesOn()
    {
        await using var s = new SessionHarness(security: Auth(plaintext: true));
        await s.GreetAsync();
        await s.SendAsync("AUTH PLAIN\r\n");
        await s.ExpectAsync("334");
        await s.SendAsync(new string('A', 2000) + "\r\nNOOP\r\n");
        await s.ExpectAsync("500 ");
        await s.ExpectAsync("250 ");
        Assert.Null(s.Session.Info.AuthenticatedUser);
    }

    [Fact]
    public async Task Auth_ClientClosesDuringExchange_SessionEnds()
    {
        await using var s = new SessionHarness(security: Auth(plaintext: true));
        await s.GreetAsync();
        await s.SendAsync("AUTH LOGIN\r\n");
        await s.ExpectAsync("334");
        await s.CloseInputAsync();
        Assert.True(await s.IsClosedAsync());
    }

    [Fact]
    public async Task Auth_EmptyInitialResponseMarker_IsEmptyCredentials()
    {
        await using var s = new SessionHarness(security: Auth(plaintext: true));
        await s.GreetAsync();
        // RFC 4954 §4: "=" is an empty initial response; PLAIN without NULs is malformed.
        await s.SendAsync("AUTH PLAIN =\r\n");
        await s.ExpectAsync("501 ");
    }

    [Fact]
    public async Task RunAsync_CommandTrickledByteByByte_TimesOutAfterCommandTimeoutInTotal()
    {
        await using var h = new SessionHarness(new SmtpServerOptions { Hostname = "mx.test", CommandTimeout = TimeSpan.FromSeconds(30) });
        await h.GreetAsync();
        int armed = h.Time.ArmedCount;
        await h.SendAsync("NO");
        await h.Time.WhenArmedAsync(armed + 1).WaitAsync(TimeSpan.FromSeconds(10));
        h.Time.Advance(TimeSpan.FromSeconds(20));
        await h.SendAsync("O");
        await h.Time.WhenArmedAsync(armed + 2).WaitAsync(TimeSpan.FromSeconds(10));
        // 31 s since the command began, though only 11 s since the last byte.
        h.Time.Advance(TimeSpan.FromSeconds(11));
        await h.ExpectAsync("421 4.4.2");
        Assert.True(await h.IsClosedAsync());
    }
}
