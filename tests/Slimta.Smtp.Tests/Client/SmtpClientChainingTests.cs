using System.Text;
using Slimta.Smtp.Client;

namespace Slimta.Smtp.Tests.Client;

/// <summary>A transaction's MAIL, RCPT and DATA written right behind the previous message's final dot (RFC 2920 §3.1).</summary>
public sealed class SmtpClientChainingTests
{
    private const string GroupB = "MAIL FROM:<s@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n";

    private static async Task<(SmtpClient Client, ScriptedServerStream Stream, List<string> Writes)> OpenAsync(Func<string, string?> respond, string ehlo = "250-mx.test\r\n250 PIPELINING\r\n", bool lmtp = false)
    {
        var writes = new List<string>();
        var stream = new ScriptedServerStream("220 mx.test ESMTP\r\n");
        stream.Respond = s =>
        {
            writes.Add(s);
            return s.StartsWith("EHLO", StringComparison.Ordinal) || s.StartsWith("LHLO", StringComparison.Ordinal) ? ehlo : respond(s);
        };
        var client = new SmtpClient(stream, new SmtpClientOptions { EhloName = "client.test", Lmtp = lmtp });
        await client.ReadGreetingAsync(CancellationToken.None);
        await client.EhloAsync(CancellationToken.None);
        writes.Clear();
        return (client, stream, writes);
    }

    private static SmtpClientTransaction Prepare(SmtpClient client, string rcpt, string body) =>
        client.Prepare("s@x.test", [rcpt], Encoding.ASCII.GetBytes(body), smtpUtf8: false);

    [Fact]
    public async Task FinishAsync_WithNext_NextGroupInTheSameWriteAsTheDot()
    {
        var (client, _, writes) = await OpenAsync(s => s switch
        {
            "MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n" => "250 ok\r\n250 ok\r\n354 go\r\n",
            "a\r\n.\r\n" + GroupB => "250 2.0.0 a queued\r\n250 ok\r\n250 ok\r\n354 go\r\n",
            "b\r\n.\r\n" => "250 2.0.0 b queued\r\n",
            _ => null,
        });
        await using var _ = client;
        var a = Prepare(client, "a@x.test", "a\r\n");
        var b = Prepare(client, "b@x.test", "b\r\n");

        Assert.True(client.CanChain);
        await client.BeginAsync(a, resetFirst: false, CancellationToken.None);
        Assert.True(a.WillSendMessage);
        var first = await client.FinishAsync(a, b, CancellationToken.None);
        Assert.True(b.GroupWritten);
        await client.ReadChainedAsync(b, CancellationToken.None);
        Assert.True(b.WillSendMessage);
        var second = await client.FinishAsync(b, null, CancellationToken.None);

        Assert.Equal("a queued", Assert.Single(first.RecipientReplies).Text);
        Assert.Equal("b queued", Assert.Single(second.RecipientReplies).Text);
        Assert.Equal(["MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n", "a\r\n.\r\n" + GroupB, "b\r\n.\r\n"], writes);
        Assert.False(client.IsBroken);
    }

    [Fact]
    public async Task ReadChainedAsync_ClosedAfterFirstFinalReply_StaleAndBroken()
    {
        ScriptedServerStream? server = null;
        var (client, stream, _) = await OpenAsync(s =>
        {
            if (s.StartsWith("a\r\n.\r\n", StringComparison.Ordinal))
            {
                // The first message's final reply, then the server goes away.
                server!.Push("250 2.0.0 a queued\r\n");
                server.End();
                return null;
            }
            return s.EndsWith("DATA\r\n", StringComparison.Ordinal) ? "250 ok\r\n250 ok\r\n354 go\r\n" : null;
        });
        server = stream;
        await using var _ = client;
        var a = Prepare(client, "a@x.test", "a\r\n");
        var b = Prepare(client, "b@x.test", "b\r\n");

        await client.BeginAsync(a, resetFirst: false, CancellationToken.None);
        var first = await client.FinishAsync(a, b, CancellationToken.None);

        Assert.Equal(250, Assert.Single(first.RecipientReplies).Code);
        // Nothing of b can have been delivered before its DATA reply: send it again elsewhere.
        await Assert.ThrowsAsync<SmtpStaleSessionException>(async () => await client.ReadChainedAsync(b, CancellationToken.None));
        Assert.True(client.IsBroken);
    }

    [Fact]
    public async Task FinishAsync_MessageNotSent_NextNotWritten()
    {
        var (client, _, writes) = await OpenAsync(s => s switch
        {
            "MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n" => "250 ok\r\n550 5.1.1 unknown\r\n554 5.5.1 no valid recipients\r\n",
            "RSET\r\n" => "250 ok\r\n",
            _ => null,
        });
        await using var _ = client;
        var a = Prepare(client, "a@x.test", "a\r\n");
        var b = Prepare(client, "b@x.test", "b\r\n");

        await client.BeginAsync(a, resetFirst: false, CancellationToken.None);
        Assert.False(a.WillSendMessage);
        var first = await client.FinishAsync(a, b, CancellationToken.None);

        Assert.Equal(550, Assert.Single(first.RecipientReplies).Code);
        Assert.False(b.GroupWritten);
        Assert.Equal(["MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n", "RSET\r\n"], writes);
    }

    [Fact]
    public async Task FinishAsync_Lmtp_NextNotWritten()
    {
        var (client, _, writes) = await OpenAsync(
            s => s.EndsWith("DATA\r\n", StringComparison.Ordinal) ? "250 ok\r\n250 ok\r\n354 go\r\n" : s == "a\r\n.\r\n" ? "250 2.0.0 a delivered\r\n" : null,
            ehlo: "250-lmtp.test\r\n250 PIPELINING\r\n",
            lmtp: true);
        await using var _ = client;
        var a = Prepare(client, "a@x.test", "a\r\n");
        var b = Prepare(client, "b@x.test", "b\r\n");

        Assert.False(client.CanChain);
        await client.BeginAsync(a, resetFirst: false, CancellationToken.None);
        var first = await client.FinishAsync(a, b, CancellationToken.None);

        Assert.Equal("a delivered", Assert.Single(first.RecipientReplies).Text);
        Assert.False(b.GroupWritten);
        Assert.Equal("a\r\n.\r\n", writes[^1]);
    }

    [Fact]
    public async Task ChainedTransaction_BeginOrFinishBeforeItsRepliesAreRead_Throws()
    {
        var (client, _, writes) = await OpenAsync(s => s switch
        {
            "MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n" => "250 ok\r\n250 ok\r\n354 go\r\n",
            "a\r\n.\r\n" + GroupB => "250 2.0.0 a queued\r\n250 ok\r\n250 ok\r\n354 go\r\n",
            _ => null,
        });
        await using var _ = client;
        var a = Prepare(client, "a@x.test", "a\r\n");
        var b = Prepare(client, "b@x.test", "b\r\n");
        await client.BeginAsync(a, resetFirst: false, CancellationToken.None);
        await client.FinishAsync(a, b, CancellationToken.None);

        // b's server waits in DATA: sending its group again, or finishing it blind (RSET read
        // against its MAIL reply), would turn commands into message content.
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.BeginAsync(b, resetFirst: false, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.FinishAsync(b, null, CancellationToken.None));
        Assert.Equal(2, writes.Count);
    }

    [Fact]
    public async Task FinishAsync_NotBegun_Throws()
    {
        var (client, _, _) = await OpenAsync(_ => null);
        await using var _ = client;
        var a = Prepare(client, "a@x.test", "a\r\n");

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.FinishAsync(a, null, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await client.ReadChainedAsync(a, CancellationToken.None));
    }
}
