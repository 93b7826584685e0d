using System.Buffers;

namespace Slimta.Smtp.Protocol;

/// <summary>
/// Frames command lines in buffered input while enforcing the 512-octet limit as bytes arrive
/// (RFC 5321 §4.5.3.1.4). A line that does not end within the limit is consumed and discarded up
/// to its LF, however long it is, so a client cannot make the server buffer unbounded input;
/// the caller answers it with one 500 and the session continues with the next line.
/// Lines are framed at LF so a client that sends bare LF gets an answer instead of a hang; such
/// a line is reported as <see cref="LineReadStatus.BareLineFeed"/> and refused (RFC 5321 §2.3.8:
/// servers should not recognise bare LF as a line ending).
/// </summary>
internal struct CommandLineReader
{
    private bool _discarding;

    /// <summary>True while the rest of a too-long line is being thrown away.</summary>
    public readonly bool IsDiscarding => _discarding;

    /// <summary>Forgets any partial state (after the transport changes).</summary>
    public void Reset() => _discarding = false;

    /// <summary>
    /// Looks for one line at the start of <paramref name="buffer"/>. On return the buffer starts
    /// after what was consumed; <paramref name="line"/> (without CRLF) is valid until the caller
    /// releases the underlying buffer.
    /// </summary>
    public LineReadStatus TryRead(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        line = default;
        if (_discarding)
        {
            var end = buffer.PositionOf((byte)'\n');
            if (end is null)
            {
                buffer = buffer.Slice(buffer.End);
                return LineReadStatus.NeedMoreData;
            }
            buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
            _discarding = false;
            return LineReadStatus.TooLong;
        }

        var window = buffer.Length > SmtpLimits.MaxCommandLine ? buffer.Slice(0, SmtpLimits.MaxCommandLine) : buffer;
        var lf = window.PositionOf((byte)'\n');
        if (lf is null)
        {
            if (buffer.Length < SmtpLimits.MaxCommandLine)
            {
                return LineReadStatus.NeedMoreData;
            }
            // No LF within the limit: the line is too long. Drop what we have and keep
            // dropping until its LF arrives.
            _discarding = true;
            buffer = buffer.Slice(SmtpLimits.MaxCommandLine);
            return TryRead(ref buffer, out line);
        }

        var content = buffer.Slice(0, lf.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
        if (content.Length == 0 || !EndsWithCr(content))
        {
            return LineReadStatus.BareLineFeed;
        }
        line = content.Slice(0, content.Length - 1);
        return LineReadStatus.Line;
    }

    private static bool EndsWithCr(in ReadOnlySequence<byte> content)
    {
        var last = content.Slice(content.Length - 1);
        return last.FirstSpan[0] == (byte)'\r';
    }
}
