using Slimta.Abstractions.Relaying;

namespace Slimta.Abstractions.Tests;

public sealed class ReplyTests
{
    [Theory]
    [InlineData("250 2.1.5 Ok", 250, "2.1.5", "Ok")]
    [InlineData("550 5.1.1 <x@y>: unknown", 550, "5.1.1", "<x@y>: unknown")]
    [InlineData("421 try later", 421, null, "try later")]
    [InlineData("450 5.1.1 class mismatch", 450, null, "5.1.1 class mismatch")]
    public void Parse_ReplyLine_SplitsCodeStatusAndText(string line, int code, string? status, string text)
    {
        var reply = Reply.Parse(line);
        Assert.Equal(new Reply(code, status, text), reply);
    }

    [Fact]
    public void StatusOrDefault_NoEnhancedCode_DerivedFromClass()
    {
        Assert.Equal("4.0.0", new Reply(451, null, "x").StatusOrDefault);
        Assert.True(new Reply(451, null, "x").IsTransient);
        Assert.True(new Reply(554, null, "x").IsPermanent);
    }

    [Theory]
    [InlineData("2.0.0", 250, true)]
    [InlineData("5.7.26", 550, true)]
    [InlineData("4.123.456", 451, true)]
    [InlineData("5.1.1", 250, false)]
    [InlineData("2.0", 250, false)]
    [InlineData("2.0.0.0", 250, false)]
    [InlineData("2..0", 250, false)]
    [InlineData("2.0.", 250, false)]
    [InlineData("2.1234.0", 250, false)]
    [InlineData("2.0.1234", 250, false)]
    [InlineData("22.0.0", 250, false)]
    [InlineData("2.a.0", 250, false)]
    [InlineData("", 250, false)]
    public void IsEnhancedStatus_Candidate_MatchesRfc3463Shape(string text, int code, bool expected)
    {
        Assert.Equal(expected, Reply.IsEnhancedStatus(text, code));
    }
}
