using System.Net;
using System.Net.Sockets;
using System.Text;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Tests.Edge;

public class SmtpEdgeTests
{
    private const string Header = "From: a@client.test\r\nTo: b@remote.test\r\nSubject: edge\r\n\r\n";

    private static async Task<RawSmtpClient> StartTransactionAsync(EdgeFixture edge, string rcpt = "b@remote.test")
    {
        var client = await edge.ConnectAsync();
        await client.ExpectAsync("220 ");
        await client.SendAsync($"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n");
        await client.ExpectAsync("250");
        await client.ExpectAsync("250 2.1.0");
        await client.ExpectAsync("250 2.1.5");
        await client.ExpectAsync("354");
        return client;
    }

    [Fact]
    public async Task StartAsync_Port0_ExposesBoundPortAndGreetsWithFqdnBanner()
    {
        await using var edge = await EdgeFixture.StartAsync();
        var bound = Assert.IsType<IPEndPoint>(Assert.Single(edge.Edge.BoundEndPoints));
        Assert.NotEqual(0, bound.Port);
        await using var client = await edge.ConnectAsync();
        Assert.Equal("220 mx.example.test ESMTP Slimta", await client.ReadReplyAsync());
        await client.SendAsync("EHLO c.test\r\n");
        var ehlo = await client.ExpectAsync("250-mx.example.test");
        Assert.Contains("250 SIZE 1048576", ehlo);
    }

    [Fact]
    public async Task StartAsync_BannerTemplate_IsExpanded()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["rules"] = new Dictionary<string, object?> { ["banner"] = "{hostname} says hi" } });
        await using var client = await edge.ConnectAsync();
        Assert.Equal("220 mx says hi", await client.ReadReplyAsync());
    }

    [Fact]
    public async Task Session_Message_IsQueuedWithExactBytesAndClientInfo()
    {
        await using var edge = await EdgeFixture.StartAsync();
        await using var client = await StartTransactionAsync(edge);
        var body = Header + "..dot\r\ncaf\u00c3\u00a9 \u00e2\u0098\u0083\r\n\u00ff\u0080 raw\r\n";
        await client.SendAsync(body.Replace("..dot", "...dot") + ".\r\nQUIT\r\n");
        Assert.Equal("250 2.6.0 q1 Message accepted", await client.ReadReplyAsync());
        await client.ExpectAsync("221");
        Assert.True(await client.IsClosedAsync());

        var envelope = Assert.Single(edge.Queue.Envelopes);
        Assert.Equal("a@client.test", envelope.Sender);
        Assert.Equal(["b@remote.test"], envelope.Recipients);
        Assert.Equal(Encoding.Latin1.GetBytes(body.Replace("..dot", "..dot")), envelope.Message.Bytes.ToArray());
        Assert.Equal(IPAddress.Loopback, envelope.Client.Address);
        Assert.Equal(client.LocalEndPoint.Port, envelope.Client.Port);
        Assert.Equal("client.test", envelope.Client.EhloName);
        Assert.Equal("ESMTP", envelope.Client.Protocol);
        Assert.Null(envelope.Client.AuthenticatedUser);
        Assert.Equal(edge.Time.GetUtcNow(), envelope.ReceivedAt);
    }

    [Fact]
    public async Task Session_HeloAndParameters_AreRecorded()
    {
        await using var edge = await EdgeFixture.StartAsync();
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220");
        await client.SendAsync(Encoding.UTF8.GetBytes("HELO old.test\r\nMAIL FROM:<jö@client.test> SMTPUTF8 BODY=8BITMIME\r\nRCPT TO:<ü@remote.test>\r\nDATA\r\n"));
        await client.ExpectAsync("250 ");
        await client.ExpectAsync("250 2.1.0");
        await client.ExpectAsync("250 2.1.5");
        await client.ExpectAsync("354");
        await client.SendAsync("x\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0");
        var envelope = Assert.Single(edge.Queue.Envelopes);
        Assert.Equal("SMTP", envelope.Client.Protocol);
        Assert.True(envelope.SmtpUtf8);
        Assert.Equal("8BITMIME", envelope.BodyType);
        Assert.Equal("jö@client.test", envelope.Sender);
        Assert.Equal(["ü@remote.test"], envelope.Recipients);
    }

    [Fact]
    public async Task Session_Accepted_LogsOneLineWithQueueIdAndNoBody()
    {
        await using var edge = await EdgeFixture.StartAsync();
        await using var client = await StartTransactionAsync(edge);
        await client.SendAsync(Header + "secret-body-text\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0 q1");
        var accepted = edge.Logs.Lines.Where(l => l.Contains("q1", StringComparison.Ordinal)).ToList();
        Assert.Single(accepted);
        Assert.DoesNotContain(edge.Logs.Lines, l => l.Contains("secret-body-text", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Session_QueueThrows_Gets451AndIsLogged()
    {
        await using var edge = await EdgeFixture.StartAsync();
        edge.Queue.Answer = _ => throw new IOException("disk full");
        await using var client = await StartTransactionAsync(edge);
        await client.SendAsync(Header + "x\r\n.\r\nNOOP\r\n");
        await client.ExpectAsync("451 4.3.0");
        await client.ExpectAsync("250");
        Assert.Contains(edge.Logs.Lines, l => l.Contains("disk full", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Session_QueueRefusesOnePart_GetsThatReply()
    {
        await using var edge = await EdgeFixture.StartAsync();
        edge.Queue.Answer = e => Task.FromResult<IReadOnlyList<QueueResult>>(
            [QueueResult.Accepted(e, "a1"), QueueResult.Failed(e, new Reply(554, "5.7.0", "policy says no"))]);
        await using var client = await StartTransactionAsync(edge);
        await client.SendAsync(Header + "x\r\n.\r\n");
        Assert.Equal("554 5.7.0 policy says no", await client.ReadReplyAsync());
    }

    [Fact]
    public async Task Session_QueueFailsWithoutReply_Gets451()
    {
        await using var edge = await EdgeFixture.StartAsync();
        edge.Queue.Answer = e => Task.FromResult<IReadOnlyList<QueueResult>>([new QueueResult(e, null, null)]);
        await using var client = await StartTransactionAsync(edge);
        await client.SendAsync(Header + "x\r\n.\r\n");
        await client.ExpectAsync("451 4.3.0");
    }

    [Fact]
    public async Task Session_ProxyQueueReply_IsPassedThrough()
    {
        await using var edge = await EdgeFixture.StartAsync();
        edge.Queue.Answer = e => Task.FromResult<IReadOnlyList<QueueResult>>([new QueueResult(e, "p1", new Reply(250, "2.0.0", "Ok: queued as ABC"))]);
        await using var client = await StartTransactionAsync(edge);
        await client.SendAsync(Header + "x\r\n.\r\n");
        Assert.Equal("250 2.0.0 Ok: queued as ABC", await client.ReadReplyAsync());
    }

    [Fact]
    public async Task Session_RecipientRules_RefuseOthersWith550()
    {
        await using var edge = await EdgeFixture.StartAsync(new()
        {
            ["rules"] = new Dictionary<string, object?>
            {
                ["only_recipients"] = new[] { "@remote.test" },
                ["regex_senders"] = new[] { @".*@client\.test" },
                ["lookup_recipients"] = new Dictionary<string, object?>
                {
                    ["type"] = "config",
                    ["map"] = new Dictionary<string, object?> { ["b@remote.test"] = "yes", ["c@remote.test"] = "yes" },
                },
            },
        });
        await using var client = await edge.ConnectAsync();
        await client.ExpectAsync("220");
        await client.SendAsync("EHLO c\r\nMAIL FROM:<a@evil.test>\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@remote.test>\r\nRCPT TO:<x@remote.test>\r\nRCPT TO:<b@other.test>\r\n");
        await client.ExpectAsync("250-");
        await client.ExpectAsync("550 5.7.1");
        await client.ExpectAsync("250 2.1.0");
        await client.ExpectAsync("250 2.1.5");
        await client.ExpectAsync("550 5.7.1");
        await client.ExpectAsync("550 5.7.1");
    }

    [Fact]
    public async Task Accept_OverMaxConnections_Gets421AndClosed()
    {
        await using var edge = await EdgeFixture.StartAsync(new() { ["max_connections"] = 1 });
        await using var first = await edge.ConnectAsync();
        await first.ExpectAsync("220");
        await using var second = await edge.ConnectAsync();
        await second.ExpectAsync("421 4.7.0");
        Assert.True(await second.IsClosedAsync());
        await first.SendAsync("NOOP\r\n");
        await first.ExpectAsync("250");
    }

    [Fact]
    public async Task Accept_ManyConcurrentSessions_AllServed()
    {
        await using var edge = await EdgeFixture.StartAsync();
        var sessions = Enumerable.Range(0, 20).Select(async i =>
        {
            await using var client = await StartTransactionAsync(edge, $"r{i}@remote.test");
            await client.SendAsync(Header + $"n{i}\r\n.\r\nQUIT\r\n");
            await client.ExpectAsync("250 2.6.0");
            await client.ExpectAsync("221");
        });
        await Task.WhenAll(sessions);
        Assert.Equal(20, edge.Queue.Envelopes.Count);
    }

    [Fact]
    public async Task StopAsync_IdleSession_Gets421AndListenerCloses()
    {
        var edge = await EdgeFixture.StartAsync();
        await using (edge)
        {
            await using var client = await edge.ConnectAsync();
            await client.ExpectAsync("220");
            var endPoint = edge.EndPoint;
            await edge.Edge.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            await client.ExpectAsync("421 4.3.2");
            Assert.True(await client.IsClosedAsync());
            await Assert.ThrowsAnyAsync<SocketException>(async () => await RawSmtpClient.ConnectAsync(endPoint));
        }
    }

    [Fact]
    public async Task StopAsync_DuringData_LetsMessageFinish()
    {
        await using var edge = await EdgeFixture.StartAsync();
        await using var client = await StartTransactionAsync(edge);
        await client.SendAsync(Header + "part one\r\n");
        var stop = edge.Edge.StopAsync(CancellationToken.None);
        await client.SendAsync("part two\r\n.\r\n");
        await client.ExpectAsync("250 2.6.0");
        await client.ExpectAsync("421 4.3.2");
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(edge.Queue.Envelopes);
    }

    [Fact]
    public async Task StopAsync_TokenFires_CutsOffSessionInData()
    {
        await using var edge = await EdgeFixture.StartAsync();
        await using var client = await StartTransactionAsync(edge);
        await client.SendAsync(Header + "never finished\r\n");
        using var cts = new CancellationTokenSource();
        var stop = edge.Edge.StopAsync(cts.Token);
        await cts.CancelAsync();
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await client.IsClosedAsync());
        Assert.Empty(edge.Queue.Envelopes);
        Assert.Equal(0, edge.Edge.ActiveConnections);
    }
}
