using System.Text;
using Slimta.Smtp.Client;
using static Slimta.Smtp.Tests.Client.ScriptedSmtpServer;

namespace Slimta.Smtp.Tests.Client;

public sealed class SmtpClientTests
{
    private const string Greeting = "220 mx.test ESMTP\r\n";
    private const string EhloCmd = "EHLO client.test\r\n";

    private static SmtpClientOptions Options(bool lmtp = false, double commandSeconds = 10) => new()
    {
        EhloName = "client.test",
        Lmtp = lmtp,
        CommandTimeout = TimeSpan.FromSeconds(commandSeconds),
        DataTimeout = TimeSpan.FromSeconds(commandSeconds),
    };

    private static async Task<SmtpClient> OpenAsync(ScriptedSmtpServer server, SmtpClientOptions? options = null)
    {
        var client = await SmtpClient.ConnectAsync("127.0.0.1", server.Port, options ?? Options(), CancellationToken.None);
        var greeting = await client.ReadGreetingAsync(CancellationToken.None);
        Assert.Equal(220, greeting.Code);
        return client;
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task EhloAsync_ServerAnswers502_FallsBackToHelo()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("502 5.5.1 EHLO not implemented\r\n"),
            Expect("HELO client.test\r\n"), Send("250 mx.test\r\n"));
        await using var client = await OpenAsync(server);

        var reply = await client.EhloAsync(CancellationToken.None);

        Assert.Equal(250, reply.Code);
        Assert.Empty(client.Extensions.Keywords);
        await server.Completion;
    }

    [Fact]
    public async Task EhloAsync_MultiLineReply_ParsesExtensions()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd),
            Send("250-mx.test hello\r\n250-PIPELINING\r\n250-SIZE 10240\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"));
        await using var client = await OpenAsync(server);

        var reply = await client.EhloAsync(CancellationToken.None);

        Assert.Equal(250, reply.Code);
        Assert.True(client.Extensions.Pipelining);
        Assert.Equal(10240, client.Extensions.MaxSize);
        Assert.True(client.Extensions.EightBitMime);
        Assert.True(client.Extensions.SmtpUtf8);
        Assert.True(client.Extensions.StartTls);
        Assert.Equal(["PLAIN", "LOGIN"], client.Extensions.AuthMechanisms);
        await server.Completion;
    }

    [Fact]
    public async Task EhloAsync_Lmtp_SendsLhlo()
    {
        await using var server = Start(Send(Greeting), Expect("LHLO client.test\r\n"), Send("250-lmtp.test\r\n250 PIPELINING\r\n"));
        await using var client = await OpenAsync(server, Options(lmtp: true));

        var reply = await client.EhloAsync(CancellationToken.None);

        Assert.Equal(250, reply.Code);
        Assert.True(client.Extensions.Pipelining);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_Pipelining_SendsMailRcptDataAsOneGroup()
    {
        // The server reads the whole group before it answers anything: a lock-step client would
        // wait for the MAIL reply forever and time out.
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250-PIPELINING\r\n250 SIZE 0\r\n"),
            Expect("MAIL FROM:<s@x.test> SIZE=7\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"),
            Send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n354 go\r\n"),
            Expect("hello\r\n.\r\n"), Send("250 2.0.0 queued as X\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test", "b@x.test"], Bytes("hello\r\n"), false, CancellationToken.None);

        Assert.All(result.RecipientReplies, r => Assert.Equal("250 2.0.0 queued as X", r.ToString()));
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_NoPipelining_WaitsForEachReply()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250 mx.test\r\n"),
            Expect("MAIL FROM:<>\r\n"), Send("250 ok\r\n"),
            Expect("RCPT TO:<a@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("DATA\r\n"), Send("354 go\r\n"),
            Expect("hi\r\n.\r\n"), Send("250 done\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("", ["a@x.test"], Bytes("hi"), false, CancellationToken.None);

        Assert.Equal(250, Assert.Single(result.RecipientReplies).Code);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_MixedRcptReplies_OneReplyPerRecipient()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 PIPELINING\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n"),
            Send("250 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n450 4.2.0 mailbox busy\r\n354 go\r\n"),
            Expect("m\r\n.\r\n"), Send("250 2.0.0 ok\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test", "b@x.test", "c@x.test"], Bytes("m\r\n"), false, CancellationToken.None);

        Assert.Equal(["250 2.0.0 ok", "550 5.1.1 no such user", "450 4.2.0 mailbox busy"], result.RecipientReplies.Select(r => r.ToString()));
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_ResetFirstWithPipelining_RsetLeadsTheGroup()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 PIPELINING\r\n"),
            Expect("RSET\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n"),
            Send("250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            Expect("m\r\n.\r\n"), Send("250 2.0.0 queued\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("m\r\n"), false, resetFirst: true, CancellationToken.None);

        Assert.Equal("250 2.0.0 queued", Assert.Single(result.RecipientReplies).ToString());
        Assert.Equal(250, result.MailReply!.Code);
        Assert.False(client.IsBroken);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_ResetFirstRefused_ThrowsStaleAndSendsNoData()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 PIPELINING\r\n"),
            Expect("RSET\r\nMAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n"),
            Send("421 4.4.2 idle too long\r\n"), Close());
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var e = await Assert.ThrowsAsync<SmtpStaleSessionException>(
            () => client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("m\r\n"), false, resetFirst: true, CancellationToken.None));

        Assert.Equal(421, e.Reply!.Code);
        Assert.True(client.IsBroken);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_ResetFirstOnClosedConnection_ThrowsStale()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 PIPELINING\r\n"), Close());
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);
        await server.Completion;

        var e = await Assert.ThrowsAsync<SmtpStaleSessionException>(
            () => client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("m\r\n"), false, resetFirst: true, CancellationToken.None));

        Assert.Null(e.Reply);
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task SendMessageAsync_AllRcptRejected_SendsRsetAndNoData()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250 mx.test\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("RCPT TO:<a@x.test>\r\n"), Send("550 5.1.1 unknown\r\n"),
            Expect("RSET\r\n"), Send("250 reset\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("m\r\n"), false, CancellationToken.None);

        Assert.Equal("550 5.1.1 unknown", Assert.Single(result.RecipientReplies).ToString());
        Assert.Null(result.DataReply);
        Assert.False(client.IsBroken);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_LinesStartingWithDot_AreDotStuffed()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 PIPELINING\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n"), Send("250 ok\r\n250 ok\r\n354 go\r\n"),
            Expect(".. leading\r\nmid.dle\r\n...\r\n..\r\nend\r\n.\r\n"), Send("250 ok\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes(". leading\r\nmid.dle\r\n..\r\n.\r\nend"), false, CancellationToken.None);

        Assert.Equal(250, Assert.Single(result.RecipientReplies).Code);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_EightBitWith8BitMime_SendsBodyParameterAndRawBytes()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 8BITMIME\r\n"),
            Expect("MAIL FROM:<s@x.test> BODY=8BITMIME\r\n"), Send("250 ok\r\n"),
            Expect("RCPT TO:<a@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("DATA\r\n"), Send("354 go\r\n"),
            Expect("caf\u00e9\r\n.\r\n"), Send("250 ok\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("caf\u00e9\r\n"), false, CancellationToken.None);

        Assert.Equal(250, Assert.Single(result.RecipientReplies).Code);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_EightBitWithout8BitMime_Fails563WithoutSending()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250 mx.test\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test", "b@x.test"], Bytes("caf\u00e9\r\n"), false, CancellationToken.None);
        await client.QuitAsync(CancellationToken.None);

        Assert.All(result.RecipientReplies, r => Assert.Equal("5.6.3", r.EnhancedStatus));
        Assert.All(result.RecipientReplies, r => Assert.True(r.IsPermanent));
        Assert.Null(result.MailReply);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_EightBitWithout8BitMimeAndConverter_SendsConvertedWithoutBody8BitMime()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250 mx.test\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("RCPT TO:<a@x.test>\r\n"), Send("250 ok\r\n"),
            Expect("DATA\r\n"), Send("354 go\r\n"),
            Expect("caf=C3=A9\r\n.\r\n"), Send("250 ok\r\n"));
        var options = new SmtpClientOptions
        {
            EhloName = Options().EhloName,
            CommandTimeout = TimeSpan.FromSeconds(10),
            EightBitConverter = _ => Encoding.ASCII.GetBytes("caf=C3=A9\r\n"),
        };
        await using var client = await OpenAsync(server, options);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("caf\u00e9\r\n"), false, CancellationToken.None);

        Assert.Equal(250, Assert.Single(result.RecipientReplies).Code);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_ConverterGivesUp_Fails563WithoutSending()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250 mx.test\r\n"),
            Expect("QUIT\r\n"), Send("221 bye\r\n"));
        var options = new SmtpClientOptions { EhloName = Options().EhloName, EightBitConverter = _ => null };
        await using var client = await OpenAsync(server, options);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("caf\u00e9\r\n"), false, CancellationToken.None);
        await client.QuitAsync(CancellationToken.None);

        Assert.Equal("5.6.3", Assert.Single(result.RecipientReplies).EnhancedStatus);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_DropDuringData_ThrowsIOException()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 PIPELINING\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n"), Send("250 ok\r\n250 ok\r\n354 go\r\n"),
            Skip(3), Close());
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        await Assert.ThrowsAnyAsync<IOException>(() =>
            client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("abcdef\r\n"), false, CancellationToken.None));
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task ReadGreetingAsync_Server421_ReturnsReply()
    {
        await using var server = Start(Send("421 4.3.2 too busy\r\n"), Close());
        await using var client = await SmtpClient.ConnectAsync("127.0.0.1", server.Port, Options(), CancellationToken.None);

        var greeting = await client.ReadGreetingAsync(CancellationToken.None);

        Assert.Equal(421, greeting.Code);
        Assert.Equal("4.3.2", greeting.EnhancedStatus);
        Assert.Equal("too busy", greeting.Text);
    }

    [Fact]
    public async Task SendMessageAsync_ServerStallsAfterMail_ThrowsTimeout()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250 mx.test\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\n"), Hang());
        await using var client = await OpenAsync(server, Options(commandSeconds: 0.3));
        await client.EhloAsync(CancellationToken.None);

        var e = await Assert.ThrowsAsync<SmtpTimeoutException>(() =>
            client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("m\r\n"), false, CancellationToken.None));

        Assert.Equal(SmtpStage.Command, e.Stage);
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task SendMessageAsync_Lmtp_OneFinalReplyPerAcceptedRecipient()
    {
        await using var server = Start(
            Send(Greeting), Expect("LHLO client.test\r\n"), Send("250-lmtp.test\r\n250 PIPELINING\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n"),
            Send("250 ok\r\n250 ok\r\n550 5.1.1 unknown\r\n250 ok\r\n354 go\r\n"),
            Expect("m\r\n.\r\n"), Send("250 2.0.0 <a> saved\r\n452 4.2.2 <c> over quota\r\n"));
        await using var client = await OpenAsync(server, Options(lmtp: true));
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test", "b@x.test", "c@x.test"], Bytes("m\r\n"), false, CancellationToken.None);

        Assert.Equal(["250 2.0.0 <a> saved", "550 5.1.1 unknown", "452 4.2.2 <c> over quota"], result.RecipientReplies.Select(r => r.ToString()));
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_LmtpDropAfterFirstFinalReply_RestTransient()
    {
        await using var server = Start(
            Send(Greeting), Expect("LHLO client.test\r\n"), Send("250-lmtp.test\r\n250 PIPELINING\r\n"),
            Expect("MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n"),
            Send("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            Expect("m\r\n.\r\n"), Send("250 2.0.0 <a> saved\r\n"), Close());
        await using var client = await OpenAsync(server, Options(lmtp: true));
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test", "b@x.test"], Bytes("m\r\n"), false, CancellationToken.None);

        Assert.Equal(250, result.RecipientReplies[0].Code);
        Assert.Equal(451, result.RecipientReplies[1].Code);
        Assert.Equal("4.4.2", result.RecipientReplies[1].EnhancedStatus);
    }

    [Fact]
    public async Task AuthenticateAsync_PlainOffered_SendsInitialResponse()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 AUTH LOGIN PLAIN\r\n"),
            Expect("AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"), Send("235 2.7.0 ok\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var reply = await client.AuthenticateAsync("user", "secret", CancellationToken.None);

        Assert.Equal(235, reply.Code);
        await server.Completion;
    }

    [Fact]
    public async Task AuthenticateAsync_OnlyLoginOffered_AnswersBothChallenges()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 AUTH LOGIN\r\n"),
            Expect("AUTH LOGIN\r\n"), Send("334 VXNlcm5hbWU6\r\n"),
            Expect("dXNlcg==\r\n"), Send("334 UGFzc3dvcmQ6\r\n"),
            Expect("c2VjcmV0\r\n"), Send("535 5.7.8 bad credentials\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var reply = await client.AuthenticateAsync("user", "secret", CancellationToken.None);

        Assert.Equal(535, reply.Code);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_SizeAdvertised_SendsSizeOfMessageWithTrailingCrlf()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 SIZE 1000\r\n"),
            Expect("MAIL FROM:<s@x.test> SIZE=5\r\n"), Send("552 5.3.4 too big\r\n"),
            Expect("RSET\r\n"), Send("250 ok\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["a@x.test"], Bytes("abc"), false, CancellationToken.None);

        Assert.Equal("552 5.3.4 too big", Assert.Single(result.RecipientReplies).ToString());
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_Utf8AddressWithSmtpUtf8_SendsParameter()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"),
            Expect("MAIL FROM:<s@x.test> SIZE=3 SMTPUTF8\r\nRCPT TO:<j\u00f6rg@x.test>\r\nDATA\r\n"),
            Send("250 ok\r\n250 ok\r\n354 go\r\n"), Expect("m\r\n.\r\n"), Send("250 ok\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["j\u00f6rg@x.test"], Bytes("m\r\n"), false, CancellationToken.None);

        Assert.Equal(250, Assert.Single(result.RecipientReplies).Code);
        await server.Completion;
    }

    [Fact]
    public async Task SendMessageAsync_Utf8AddressWithoutSmtpUtf8_Fails567WithoutSending()
    {
        await using var server = Start(
            Send(Greeting), Expect(EhloCmd), Send("250-mx.test\r\n250 8BITMIME\r\n"),
            Expect("NOOP\r\n"), Send("250 ok\r\n"));
        await using var client = await OpenAsync(server);
        await client.EhloAsync(CancellationToken.None);

        var result = await client.SendMessageAsync("s@x.test", ["j\u00f6rg@x.test"], Bytes("m\r\n"), false, CancellationToken.None);
        await client.NoopAsync(CancellationToken.None);

        var reply = Assert.Single(result.RecipientReplies);
        Assert.Equal("5.6.7", reply.EnhancedStatus);
        Assert.True(reply.IsPermanent);
        await server.Completion;
    }

    [Fact]
    public async Task SendCommandAsync_LineBreakInCommand_Throws()
    {
        await using var server = Start(Send(Greeting), Expect(EhloCmd), Send("250 mx.test\r\n"));
        await using var client = await OpenAsync(server);

        await Assert.ThrowsAsync<ArgumentException>(() => client.SendCommandAsync("NOOP\r\nRSET", CancellationToken.None));
    }
}
