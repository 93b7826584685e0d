namespace Slimta.Smtp.Tests.Server;

/// <summary>When the session tells its transport that the client answers at once (no idle wait to make cheap).</summary>
public sealed class SmtpServerSessionPromptInputTests
{
    [Fact]
    public async Task ExpectsPromptInput_Session_TrueInsideTransactionOnly()
    {
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        Assert.False(h.Session.ExpectsPromptInput);

        await h.SendAsync("EHLO client.test\r\n");
        await h.ReadReplyAsync();
        Assert.False(h.Session.ExpectsPromptInput);

        await h.SendAsync("MAIL FROM:<a@client.test>\r\n");
        await h.ExpectAsync("250 2.1.0");
        Assert.True(h.Session.ExpectsPromptInput);

        await h.SendAsync("RCPT TO:<b@mx.test>\r\n");
        await h.ExpectAsync("250 2.1.5");
        Assert.True(h.Session.ExpectsPromptInput);

        await h.SendAsync("DATA\r\n");
        await h.ExpectAsync("354");
        Assert.True(h.Session.ExpectsPromptInput);

        await h.SendAsync("Subject: t\r\n\r\nbody\r\n.\r\n");
        await h.ExpectAsync("250");
        Assert.False(h.Session.ExpectsPromptInput);

        // A transaction given up: the client may idle again.
        await h.SendAsync("MAIL FROM:<a@client.test>\r\n");
        await h.ExpectAsync("250 2.1.0");
        Assert.True(h.Session.ExpectsPromptInput);
        await h.SendAsync("RSET\r\n");
        await h.ExpectAsync("250 2.0.0");
        Assert.False(h.Session.ExpectsPromptInput);
    }
}
