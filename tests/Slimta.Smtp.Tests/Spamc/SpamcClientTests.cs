using Slimta.Smtp.Spamc;

namespace Slimta.Smtp.Tests.Spamc;

public sealed class SpamcClientTests
{
    [Theory]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n", true, 1000.0, "")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 1.5 / 5.0\r\n\r\n", false, 1.5, "")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nContent-length: 20\r\nSpam: True ; 1002.1 / 5.0\r\n\r\nGTUBE,NO_RELAYS", true, 1002.1, "GTUBE|NO_RELAYS")]
    public void Parse_Answer_ReadsVerdictAndSymbols(string answer, bool spam, double score, string symbols)
    {
        var verdict = SpamcClient.Parse(answer, "test");
        Assert.Equal(spam, verdict.IsSpam);
        Assert.Equal(score, verdict.Score);
        Assert.Equal(5.0, verdict.Required);
        Assert.Equal(symbols, string.Join("|", verdict.Symbols));
    }

    [Theory]
    [InlineData("SPAMD/1.1 76 Bad header line\r\n\r\n")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: True\r\n\r\n")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\n\r\n")]
    [InlineData("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5")]
    public void Parse_BadAnswer_ThrowsInvalidData(string answer)
    {
        Assert.Throws<InvalidDataException>(() => SpamcClient.Parse(answer, "test"));
    }
}
