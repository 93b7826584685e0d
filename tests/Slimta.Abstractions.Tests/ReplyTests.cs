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
}
