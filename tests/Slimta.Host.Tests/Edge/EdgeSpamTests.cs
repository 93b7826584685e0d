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
}
