using System.Text;
using Slimta.Abstractions.Envelopes;

namespace Slimta.Abstractions.Tests;

public sealed class RawMessageTests
{
    private static readonly byte[] Original = Encoding.UTF8.GetBytes(
        "From: a@x.test\r\nSubject: caf\u00e9\r\nX-Folded: one\r\n two\r\n\r\nbody \u2603\r\n.\r\n");

    [Fact]
    public void GetHeader_FoldedHeader_ReturnsUnfoldedValue()
    {
        var message = new RawMessage(Original);
        Assert.Equal("one two", message.GetHeader("x-folded"));
        Assert.Equal("caf\u00e9", message.GetHeader("Subject"));
        Assert.Null(message.GetHeader("Date"));
    }

    [Fact]
    public void HeaderLength_MessageWithBlankLine_EndsBeforeBlankLine()
    {
        var message = new RawMessage(Original);
        Assert.Equal(Encoding.UTF8.GetByteCount("From: a@x.test\r\nSubject: caf\u00e9\r\nX-Folded: one\r\n two\r\n"), message.HeaderLength);
        Assert.StartsWith("\r\nbody", Encoding.UTF8.GetString(message.Body.Span));
    }

    [Fact]
    public void PrependHeader_AnyMessage_OnlyAddsTheNewLine()
    {
        var edited = new RawMessage(Original).PrependHeader("Received", "from x by y; now");
        var prefix = Encoding.ASCII.GetBytes("Received: from x by y; now\r\n");
        Assert.Equal(prefix.Concat(Original).ToArray(), edited.Bytes.ToArray());
    }

    [Fact]
    public void AppendHeader_AnyMessage_InsertsBeforeBlankLineAndKeepsEveryOtherByte()
    {
        var original = new RawMessage(Original);
        var edited = original.AppendHeader("Date", "Sat, 28 Nov 2026 12:00:00 +0000");
        var expected = original.Headers.ToArray()
            .Concat(Encoding.ASCII.GetBytes("Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n"))
            .Concat(original.Body.ToArray()).ToArray();
        Assert.Equal(expected, edited.Bytes.ToArray());
    }

    [Fact]
    public void AppendHeader_HeadersOnlyWithoutFinalNewline_StartsNewFieldOnItsOwnLine()
    {
        var edited = RawMessage.FromString("Subject: x").AppendHeader("Date", "d");
        Assert.Equal("Subject: x\r\nDate: d\r\n", Encoding.ASCII.GetString(edited.Bytes.Span));
    }

    [Fact]
    public void RemoveHeader_FoldedHeader_RemovesContinuationLinesToo()
    {
        var edited = new RawMessage(Original).RemoveHeader("X-Folded");
        Assert.Equal(Encoding.UTF8.GetBytes("From: a@x.test\r\nSubject: caf\u00e9\r\n\r\nbody \u2603\r\n.\r\n"), edited.Bytes.ToArray());
    }

    [Fact]
    public void PrependHeader_ValueWithBareLineBreak_Rejected()
    {
        var message = new RawMessage(Original);
        Assert.Throws<ArgumentException>(() => message.PrependHeader("X-Bad", "a\r\nInjected: yes"));
        Assert.Throws<ArgumentException>(() => message.PrependHeader("Bad Name", "a"));
    }

    [Fact]
    public void GetHeader_BodyLineLooksLikeHeader_NotFound()
    {
        var message = RawMessage.FromString("Subject: s\r\n\r\nDate: not a header\r\n");
        Assert.Null(message.GetHeader("Date"));
        Assert.False(message.HasHeader("Date"));
    }
}
