using System.Text;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Server;

namespace Slimta.Smtp.Tests.Server;

public class SmtpServerSessionTests
{
    private const string Header = "From: a@client.test\r\nSubject: t\r\n\r\n";

    [Fact]
    public async Task RunAsync_Connect_SendsBannerAndEhloListsExtensions()
    {
        await using var h = new SessionHarness();
        Assert.Equal("220 mx.test ESMTP Slimta", await h.ReadReplyAsync());
        await h.SendAsync("EHLO client.test\r\n");
        var ehlo = await h.ReadReplyAsync();
        Assert.Equal("250-mx.test\n250-8BITMIME\n250-PIPELINING\n250-ENHANCEDSTATUSCODES\n250-SMTPUTF8\n250 SIZE 1000", ehlo);
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.DoesNotContain("AUTH", ehlo);
    }

    [Fact]
    public async Task RunAsync_Helo_SingleLineReply()
    {
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        await h.SendAsync("HELO client.test\r\nNOOP\r\n");
        Assert.Equal("250 mx.test", await h.ReadReplyAsync());
        await h.ExpectAsync("250 2.0.0");
    }

    [Fact]
    public async Task RunAsync_SequenceErrors_Get503AndSessionContinues()
    {
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        await h.SendAsync("MAIL FROM:<a@b.test>\r\n");
        await h.ExpectAsync("503 5.5.1");
        await h.SendAsync("EHLO c\r\nRCPT TO:<b@c.test>\r\nDATA\r\nMAIL FROM:<a@b.test>\r\nMAIL FROM:<a@b.test>\r\nDATA\r\nNOOP\r\n");
        await h.ExpectAsync("250-");
        await h.ExpectAsync("503 5.5.1");
        await h.ExpectAsync("503 5.5.1");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("503 5.5.1");
        await h.ExpectAsync("503 5.5.1");
        await h.ExpectAsync("250 2.0.0");
    }

    [Theory]
    [InlineData("EHLO\r\n", "501 5.5.4")]
    [InlineData("EHLO   \r\n", "501 5.5.4")]
    [InlineData("HELO\r\n", "501 5.5.4")]
    [InlineData("FOOBAR baz\r\n", "500 5.5.2")]
    [InlineData("VRFY\r\n", "501 5.5.4")]
    [InlineData("VRFY someone\r\n", "252 2.0.0")]
    [InlineData("HELP\r\n", "214 2.0.0")]
    [InlineData("STARTTLS\r\n", "502 5.5.1")]
    [InlineData("AUTH PLAIN AGFiYwBkZWY=\r\n", "502 5.5.1")]
    [InlineData("EXPN list\r\n", "502 5.5.1")]
    [InlineData("RSET now\r\n", "501 5.5.4")]
    [InlineData("NOOP anything\r\n", "250 2.0.0")]
    [InlineData("NOOP\n", "500 5.5.2")]
    public async Task RunAsync_SimpleCommand_GetsExpectedReplyAndSessionContinues(string command, string expected)
    {
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        await h.SendAsync(command + "NOOP\r\n");
        await h.ExpectAsync(expected);
        await h.ExpectAsync("250 2.0.0");
    }

    [Fact]
    public async Task RunAsync_Quit_Replies221AndCloses()
    {
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        await h.SendAsync("QUIT\r\nNOOP\r\n");
        await h.ExpectAsync("221 2.0.0");
        Assert.True(await h.IsClosedAsync());
    }

    [Fact]
    public async Task RunAsync_LongCommandLine_Gets500AndSessionContinues()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync("NOOP " + new string('a', 100_000) + "\r\nNOOP " + new string('a', 505) + "\r\n");
        await h.ExpectAsync("500 5.5.2");
        await h.ExpectAsync("250 2.0.0");
    }

    [Fact]
    public async Task RunAsync_PipelinedCommands_ExactlyOneReplyEach()
    {
        await using var h = new SessionHarness();
        var commands = new[]
        {
            "EHLO c.test", "NOOP", "FOOBAR", "MAIL FROM:<a@client.test>", "RCPT TO:<b@remote.test>", "RCPT TO:<bad",
            "RCPT TO:<c@remote.test> NOTIFY=NEVER", "VRFY x", "RSET", "HELP", "MAIL FROM:<a@client.test> SIZE=99999999999999999999999",
            "MAIL FROM:<a@client.test> FOO=BAR", "DATA x", "QUIT",
        };
        await h.SendAsync(string.Join("", commands.Select(c => c + "\r\n")));
        var replies = await h.ReadAllRepliesAsync();
        Assert.Equal(commands.Length + 1, replies.Count);
        Assert.Equal(
            ["220", "250", "250", "500", "250", "250", "501", "555", "252", "250", "214", "552", "555", "503", "221"],
            replies.Select(r => r[..3]).ToArray());
    }

    [Fact]
    public async Task RunAsync_PipelinedTransaction_DeliversMessage()
    {
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        await h.SendAsync("EHLO c.test\r\nMAIL FROM:<a@client.test> BODY=8BITMIME\r\nRCPT TO:<b@remote.test>\r\nRCPT TO:<c@remote.test>\r\nDATA\r\n");
        await h.ExpectAsync("250-");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("250 2.1.5");
        await h.ExpectAsync("250 2.1.5");
        await h.ExpectAsync("354");
        await h.SendAsync(Header + "..dot\r\ncaf\xe9\r\n.\r\nQUIT\r\n");
        await h.ExpectAsync("250 2.6.0 id1");
        await h.ExpectAsync("221");
        var (tx, message) = Assert.Single(h.Handler.Messages);
        Assert.Equal("a@client.test", tx.Sender);
        Assert.Equal(["b@remote.test", "c@remote.test"], tx.Recipients);
        Assert.Equal("8BITMIME", tx.BodyType);
        Assert.Equal(Encoding.Latin1.GetBytes(Header + ".dot\r\ncaf\xe9\r\n"), message);
    }

    [Fact]
    public async Task RunAsync_NextTransactionPipelinedBehindDot_BothDelivered()
    {
        // RFC 2920 §3.1: the message content may be the first "command" of a group; a relay
        // (ours among them) sends the next MAIL, RCPT and DATA right behind the final dot.
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        await h.SendAsync("EHLO c.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@remote.test>\r\nDATA\r\n");
        await h.ExpectAsync("250-");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("250 2.1.5");
        await h.ExpectAsync("354");
        await h.SendAsync(Header + "one\r\n.\r\nMAIL FROM:<c@client.test>\r\nRCPT TO:<d@remote.test>\r\nDATA\r\n");
        await h.ExpectAsync("250 2.6.0 id1");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("250 2.1.5");
        await h.ExpectAsync("354");
        await h.SendAsync(Header + "two\r\n.\r\nQUIT\r\n");
        await h.ExpectAsync("250 2.6.0 id2");
        await h.ExpectAsync("221");
        var messages = h.Handler.Messages.ToArray();
        Assert.Equal(2, messages.Length);
        Assert.Equal(["b@remote.test"], messages[0].Transaction.Recipients);
        Assert.Equal(Encoding.ASCII.GetBytes(Header + "one\r\n"), messages[0].Message);
        Assert.Equal("c@client.test", messages[1].Transaction.Sender);
        Assert.Equal(Encoding.ASCII.GetBytes(Header + "two\r\n"), messages[1].Message);
    }

    [Fact]
    public async Task RunAsync_AllRecipientsRefused_DataGets554()
    {
        await using var h = new SessionHarness();
        h.Handler.Recipient = _ => new Reply(550, "5.1.1", "no such user");
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@client.test>\r\nRCPT TO:<x@remote.test>\r\nDATA\r\n");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("550 5.1.1");
        await h.ExpectAsync("554 5.5.1");
    }

    [Fact]
    public async Task RunAsync_SenderRefusedByHandler_PassesReply()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<blocked@client.test>\r\nRCPT TO:<x@remote.test>\r\n");
        await h.ExpectAsync("550 5.7.1");
        await h.ExpectAsync("503 5.5.1");
    }

    [Fact]
    public async Task RunAsync_NullSender_IsAccepted()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<>\r\n");
        await h.ExpectAsync("250 2.1.0");
    }

    [Fact]
    public async Task RunAsync_NonAsciiWithoutSmtpUtf8_Gets553()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync(Encoding.UTF8.GetBytes("MAIL FROM:<jö@b.test>\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<ü@c.test>\r\nRSET\r\nMAIL FROM:<jö@b.test> SMTPUTF8\r\nRCPT TO:<ü@c.test>\r\n"));
        await h.ExpectAsync("553 5.6.7");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("553 5.6.7");
        await h.ExpectAsync("250 2.0.0");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("250 2.1.5");
    }

    [Theory]
    [InlineData("SIZE=1001", "552 5.3.4")]
    [InlineData("SIZE=4294967296", "552 5.3.4")]
    [InlineData("SIZE=99999999999999999999999999999", "552 5.3.4")]
    [InlineData("SIZE=-1", "501 5.5.4")]
    [InlineData("SIZE=12a", "501 5.5.4")]
    [InlineData("SIZE=1000", "250 2.1.0")]
    [InlineData("BODY=7BIT", "250 2.1.0")]
    [InlineData("BODY=BINARYMIME", "501 5.5.4")]
    [InlineData("SMTPUTF8=yes", "501 5.5.4")]
    [InlineData("AUTH=<>", "555 5.5.4")]
    [InlineData("RET=HDRS", "555 5.5.4")]
    [InlineData("SIZE=1 SIZE=2", "501 5.5.4")]
    public async Task RunAsync_MailParameter_IsValidated(string parameters, string expected)
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync($"MAIL FROM:<a@b.test> {parameters}\r\nNOOP\r\n");
        await h.ExpectAsync(expected);
        await h.ExpectAsync("250 2.0.0");
    }

    [Fact]
    public async Task RunAsync_MaxRecipients_ExtraGets452()
    {
        await using var h = new SessionHarness(new SmtpServerOptions { Hostname = "mx.test", MaxRecipients = 100 });
        await h.GreetAsync();
        var sb = new StringBuilder("MAIL FROM:<a@b.test>\r\n");
        for (int i = 0; i < 101; i++)
        {
            sb.Append($"RCPT TO:<r{i}@c.test>\r\n");
        }
        await h.SendAsync(sb.ToString());
        await h.ExpectAsync("250 2.1.0");
        for (int i = 0; i < 100; i++)
        {
            await h.ExpectAsync("250 2.1.5");
        }
        await h.ExpectAsync("452 4.5.3");
    }

    [Fact]
    public async Task RunAsync_MessageTooBig_Gets552AfterRealEndAndBodyIsNotParsed()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
        await h.ExpectAsync("250");
        await h.ExpectAsync("250");
        await h.ExpectAsync("354");
        var body = string.Concat(Enumerable.Repeat("QUIT\r\nMAIL FROM:<x@y.test>\r\n", 100));
        await h.SendAsync(body + ".\r\nNOOP\r\n");
        await h.ExpectAsync("552 5.3.4");
        await h.ExpectAsync("250 2.0.0");
        Assert.Empty(h.Handler.Messages);
    }

    [Fact]
    public async Task RunAsync_SmugglingAttempt_IsRefusedAndNothingSmuggled()
    {
        await using var h = new SessionHarness(new SmtpServerOptions { Hostname = "mx.test" });
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
        await h.ExpectAsync("250");
        await h.ExpectAsync("250");
        await h.ExpectAsync("354");
        await h.SendAsync(Header + "first\r\n\n.\r\nMAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\nsmuggled\r\n.\r\nNOOP\r\n");
        await h.ExpectAsync("554 5.6.0");
        await h.ExpectAsync("250 2.0.0");
        await h.CloseInputAsync();
        Assert.Empty(await h.ReadAllRepliesAsync());
        Assert.Empty(h.Handler.Messages);
    }

    [Fact]
    public async Task RunAsync_ThreeMessages_AllDelivered()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        for (int i = 1; i <= 3; i++)
        {
            await h.SendAsync($"MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
            await h.ExpectAsync("250");
            await h.ExpectAsync("250");
            await h.ExpectAsync("354");
            await h.SendAsync($"{Header}m{i}\r\n.\r\n");
            await h.ExpectAsync($"250 2.6.0 id{i}");
        }
        Assert.Equal(3, h.Handler.Messages.Count);
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_Gets451AndSessionContinues()
    {
        await using var h = new SessionHarness();
        h.Handler.Deliver = (_, _) => throw new InvalidOperationException("disk on fire");
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
        await h.ExpectAsync("250");
        await h.ExpectAsync("250");
        await h.ExpectAsync("354");
        await h.SendAsync("x\r\n.\r\nNOOP\r\n");
        await h.ExpectAsync("451 4.3.0");
        await h.ExpectAsync("250 2.0.0");
    }

    [Fact]
    public async Task RunAsync_HeloThenBigMessage_SizeStillEnforced()
    {
        await using var h = new SessionHarness();
        await h.ExpectAsync("220");
        await h.SendAsync("HELO c\r\nMAIL FROM:<a@b.test> SIZE=5000\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
        await h.ExpectAsync("250 mx.test");
        await h.ExpectAsync("552 5.3.4");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("250 2.1.5");
        await h.ExpectAsync("354");
        await h.SendAsync(new string('x', 2000) + "\r\n.\r\n");
        await h.ExpectAsync("552 5.3.4");
    }

    [Fact]
    public async Task RunAsync_TooManyErrors_Gets421AndCloses()
    {
        await using var h = new SessionHarness(new SmtpServerOptions { Hostname = "mx.test", MaxErrors = 3 });
        await h.ExpectAsync("220");
        await h.SendAsync("BAD1\r\nBAD2\r\nBAD3\r\nNOOP\r\n");
        await h.ExpectAsync("500");
        await h.ExpectAsync("500");
        await h.ExpectAsync("421 4.7.0");
        Assert.True(await h.IsClosedAsync());
    }

    [Fact]
    public async Task RunAsync_CommandTimeout_Gets421AndCloses()
    {
        await using var h = new SessionHarness(new SmtpServerOptions { Hostname = "mx.test", CommandTimeout = TimeSpan.FromSeconds(30) });
        await h.GreetAsync();
        h.Time.Advance(TimeSpan.FromSeconds(29));
        await h.SendAsync("NOOP\r\n");
        await h.ExpectAsync("250");
        h.Time.Advance(TimeSpan.FromSeconds(30));
        await h.ExpectAsync("421 4.4.2");
        Assert.True(await h.IsClosedAsync());
    }

    [Fact]
    public async Task RunAsync_DataTimeout_Gets421AndNothingDelivered()
    {
        await using var h = new SessionHarness(new SmtpServerOptions { Hostname = "mx.test", DataTimeout = TimeSpan.FromSeconds(60) });
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
        await h.ExpectAsync("250");
        await h.ExpectAsync("250");
        await h.ExpectAsync("354");
        // The data timer is armed before 354 is flushed. After the partial line is read it is
        // armed once more: wait for that, then move the clock. 61 s is far below the 5-minute
        // command timeout, so only the data timeout can fire.
        int armed = h.Time.ArmedCount;
        h.Time.Advance(TimeSpan.FromSeconds(59));
        await h.SendAsync("partial");
        await h.Time.WhenArmedAsync(armed + 1).WaitAsync(TimeSpan.FromSeconds(10));
        h.Time.Advance(TimeSpan.FromSeconds(59));
        await h.SendAsync(" more");
        await h.Time.WhenArmedAsync(armed + 2).WaitAsync(TimeSpan.FromSeconds(10));
        h.Time.Advance(TimeSpan.FromSeconds(61));
        await h.ExpectAsync("421 4.4.2");
        Assert.True(await h.IsClosedAsync());
        Assert.Empty(h.Handler.Messages);
    }

    [Fact]
    public async Task RunAsync_StopWhileIdle_Gets421()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.Stopping.CancelAsync();
        await h.ExpectAsync("421 4.3.2");
        Assert.True(await h.IsClosedAsync());
    }

    [Fact]
    public async Task RunAsync_StopDuringData_FinishesMessageThen421()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
        await h.ExpectAsync("250");
        await h.ExpectAsync("250");
        await h.ExpectAsync("354");
        await h.Stopping.CancelAsync();
        await h.SendAsync("hello\r\n.\r\n");
        await h.ExpectAsync("250 2.6.0");
        await h.ExpectAsync("421 4.3.2");
        Assert.Single(h.Handler.Messages);
    }

    [Fact]
    public async Task RunAsync_StopWhilePipelinedCommandsBeforeData_StillFinishesMessage()
    {
        await using var h = new SessionHarness();
        h.Handler.Recipient = _ =>
        {
            h.Stopping.Cancel();
            return null;
        };
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\n");
        await h.ExpectAsync("250 2.1.0");
        await h.ExpectAsync("250 2.1.5");
        await h.ExpectAsync("354");
        await h.SendAsync("hello\r\n.\r\n");
        await h.ExpectAsync("250 2.6.0");
        await h.ExpectAsync("421 4.3.2");
        Assert.Single(h.Handler.Messages);
    }

    [Fact]
    public async Task RunAsync_ClientDisconnectsInData_EndsWithoutDelivery()
    {
        await using var h = new SessionHarness();
        await h.GreetAsync();
        await h.SendAsync("MAIL FROM:<a@b.test>\r\nRCPT TO:<b@c.test>\r\nDATA\r\nhalf a message");
        await h.CloseInputAsync();
        var replies = await h.ReadAllRepliesAsync();
        Assert.Equal(3, replies.Count);
        Assert.Empty(h.Handler.Messages);
    }
}
