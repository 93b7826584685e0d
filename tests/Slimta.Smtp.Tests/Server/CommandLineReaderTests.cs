using System.Buffers;
using System.Text;
using Slimta.Smtp.Protocol;

namespace Slimta.Smtp.Tests.Server;

public class CommandLineReaderTests
{
    private static ReadOnlySequence<byte> Seq(string s) => new(Encoding.Latin1.GetBytes(s));

    [Fact]
    public void TryRead_LineOf512OctetsWithCrlf_IsAccepted()
    {
        var reader = new CommandLineReader();
        var buffer = Seq("NOOP " + new string('a', 505) + "\r\n");
        Assert.Equal(LineReadStatus.Line, reader.TryRead(ref buffer, out var line));
        Assert.Equal(510, line.Length);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void TryRead_LineOf513Octets_IsTooLongAndConsumed()
    {
        var reader = new CommandLineReader();
        var buffer = Seq("NOOP " + new string('a', 506) + "\r\nQUIT\r\n");
        Assert.Equal(LineReadStatus.TooLong, reader.TryRead(ref buffer, out _));
        Assert.Equal(LineReadStatus.Line, reader.TryRead(ref buffer, out var next));
        Assert.Equal("QUIT", Encoding.ASCII.GetString(next.ToArray()));
    }

    [Fact]
    public void TryRead_HugeLineInChunks_DiscardsWithoutKeepingInput()
    {
        var reader = new CommandLineReader();
        var chunk = new string('x', 4096);
        for (int i = 0; i < 100; i++)
        {
            var buffer = Seq(chunk);
            Assert.Equal(LineReadStatus.NeedMoreData, reader.TryRead(ref buffer, out _));
            // Everything was consumed: the caller need not keep any of it.
            Assert.True(buffer.IsEmpty);
        }
        var end = Seq("xx\r\nNOOP\r\n");
        Assert.Equal(LineReadStatus.TooLong, reader.TryRead(ref end, out _));
        Assert.Equal(LineReadStatus.Line, reader.TryRead(ref end, out _));
    }

    [Fact]
    public void TryRead_PartialLine_NeedsMoreDataAndKeepsBytes()
    {
        var reader = new CommandLineReader();
        var buffer = Seq("NOOP\r");
        Assert.Equal(LineReadStatus.NeedMoreData, reader.TryRead(ref buffer, out _));
        Assert.Equal(5, buffer.Length);
    }

    [Fact]
    public void TryRead_BareLf_IsReported()
    {
        var reader = new CommandLineReader();
        var buffer = Seq("NOOP\nNOOP\r\n");
        Assert.Equal(LineReadStatus.BareLineFeed, reader.TryRead(ref buffer, out _));
        Assert.Equal(LineReadStatus.Line, reader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void TryRead_LineSplitAcrossSegments_IsFound()
    {
        var first = new Segment(Encoding.ASCII.GetBytes("NO"));
        var last = first.Append(Encoding.ASCII.GetBytes("OP\r")).Append(Encoding.ASCII.GetBytes("\n"));
        var buffer = new ReadOnlySequence<byte>(first, 0, last, 1);
        var reader = new CommandLineReader();
        Assert.Equal(LineReadStatus.Line, reader.TryRead(ref buffer, out var line));
        Assert.Equal("NOOP", Encoding.ASCII.GetString(line.ToArray()));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data) => Memory = data;

        public Segment Append(byte[] data)
        {
            var next = new Segment(data) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
