using Slimta.Testing;

namespace Slimta.Host.Tests.Edge;

public class EdgeSpamTests
{
    private const string Headers = "From: Alice <alice@client.test>\r\nTo: Bob <b@remote.test>\r\nSubject: Lunch on Friday\r\n"
        + "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <lunch-1@client.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";

    private static Dictionary<string, object?> Spam(int port) => new()
    {
        ["rules"] = new Dictionary<string, object?>
        {
            ["reject_spam"] = new Dictionary<string, object?> { ["type"] = "spamassassin", ["host"] = "127.0.0.1", ["port"] = port, ["timeout"] = 60 },
        },
    };

    [Fact]
    public async Task Deliver_SpamdFlagsGtubeAndPassesHam_RefusesOnlyTheSpam()
    {
        await using var spamd = await Spamd.StartAsync();
        await using var edge = await EdgeFixture.StartAsync(Spam(spamd.Port));
        await EdgeDnsRulesTests.SendMessageAsync(edge, Headers + "This is the GTUBE, the\r\n" + Spamd.Gtube + "\r\n", "550 5.7.1 ");
        Assert.Empty(edge.Queue.Envelopes);
        await EdgeDnsRulesTests.SendMessageAsync(edge, Headers + "Hi Bob,\r\n\r\nshall we meet at noon on Friday at the usual place?\r\n\r\nAlice\r\n", "250 2.6.0");
        Assert.Single(edge.Queue.Envelopes);
    }

    [Fact]
    public async Task Deliver_SpamdDown_Gets451NeverASilentPass()
    {
        int port = FreePort.Next();
        await using var edge = await EdgeFixture.StartAsync(Spam(port));
        await EdgeDnsRulesTests.SendMessageAsync(edge, Headers + "hello\r\n", "451 4.7.1 ");
        Assert.Empty(edge.Queue.Envelopes);
    }

    [Theory]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n", true, 1000.0)]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 1.5 / 5.0\r\n\r\n", false, 1.5)]
    public void Parse_CheckAnswer_ReadsVerdict(string answer, bool spam, double score)
    {
        var verdict = Slimta.Host.Edge.Spam.SpamdClient.Parse(answer);
        Assert.Equal(spam, verdict.IsSpam);
        Assert.Equal(score, verdict.Score);
        Assert.Equal(5.0, verdict.Threshold);
    }

    [Theory]
    [InlineData("SPAMD/1.1 76 Bad header line\r\n\r\n")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: True\r\n\r\n")]
    public void Parse_BadAnswer_Throws(string answer)
    {
        Assert.Throws<Slimta.Host.Edge.Spam.SpamdException>(() => Slimta.Host.Edge.Spam.SpamdClient.Parse(answer));
    }
}
