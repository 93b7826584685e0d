namespace Slimta.Smtp.Protocol;

/// <summary>
/// Decodes the DATA stream of RFC 5321 §4.1.1.4 as it arrives, in any chunking: finds the end of
/// data, removes dot-stuffing (§4.5.2) and enforces the size limit, without ever buffering more
/// than the limit.
/// <para>
/// Only the exact sequence CR LF "." CR LF ends the data (the CRLF of the DATA command counts, so
/// ".CRLF" right away is an empty message). <c>LF.LF</c>, <c>LF.CRLF</c>, <c>CRLF.LF</c>,
/// <c>CR.CR</c> and every other mix never end it: treating them as the end is what makes SMTP
/// smuggling possible (CVE-2023-51764, CVE-2023-51765, CVE-2023-51766), because the next hop would
/// read the rest of the body as new commands.
/// </para>
/// <para>
/// Bare CR and bare LF (not part of a CRLF) are kept in the decoded bytes but flagged through
/// <see cref="SawBareLineEnding"/>; the session refuses such a message once its real end has been
/// read (RFC 5321 §2.3.8: CR and LF must only occur together as CRLF). Refusing rather than
/// passing them on keeps a smuggling payload from reaching a next hop whose parser is lenient,
/// and rather than rewriting them keeps the bytes we accept exactly the bytes we were sent.
/// Only CRLF counts as a line break for dot-unstuffing.
/// </para>
/// </summary>
internal sealed class DataDecoder
{
    private readonly MessageBuffer _output;
    private readonly long _maxSize;
    private State _state = State.LineStart;
    private long _size;

    /// <summary>Creates a decoder writing into <paramref name="output"/>, keeping at most <paramref name="maxSize"/> bytes.</summary>
    public DataDecoder(MessageBuffer output, long maxSize)
    {
        _output = output;
        _maxSize = maxSize;
    }

    private enum State
    {
        /// <summary>At the start of a line (after CRLF).</summary>
        LineStart,

        /// <summary>Inside a line.</summary>
        Text,

        /// <summary>After a CR inside a line.</summary>
        Cr,

        /// <summary>After a "." at the start of a line.</summary>
        Dot,

        /// <summary>After "." CR at the start of a line.</summary>
        DotCr,

        /// <summary>The end of data was found.</summary>
        Done,
    }

    /// <summary>True once the terminating CRLF.CRLF has been read.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>True when the message exceeded the size limit; its bytes beyond the limit were discarded.</summary>
    public bool IsOversize => _size > _maxSize;

    /// <summary>True when a CR or LF that is not part of a CRLF pair was seen.</summary>
    public bool SawBareLineEnding { get; private set; }

    /// <summary>The size of the decoded message in bytes (counted even past the limit).</summary>
    public long Size => _size;

    /// <summary>
    /// Consumes bytes of the DATA stream. Returns how many bytes of <paramref name="input"/> belong
    /// to the data; when that is less than the input length, the data ended and the remaining
    /// bytes are the next command(s).
    /// </summary>
    public int Decode(ReadOnlySpan<byte> input)
    {
        int i = 0;
        while (i < input.Length && _state != State.Done)
        {
            switch (_state)
            {
                case State.Text:
                {
                    var rest = input[i..];
                    int stop = rest.IndexOfAny((byte)'\r', (byte)'\n');
                    if (stop < 0)
                    {
                        Emit(rest);
                        i = input.Length;
                        break;
                    }
                    Emit(rest[..stop]);
                    i += stop + 1;
                    if (rest[stop] == (byte)'\r')
                    {
                        _state = State.Cr;
                    }
                    else
                    {
                        SawBareLineEnding = true;
                        Emit("\n"u8);
                    }
                    break;
                }
                case State.Cr:
                    if (input[i] == (byte)'\n')
                    {
                        Emit("\r\n"u8);
                        _state = State.LineStart;
                        i++;
                    }
                    else
                    {
                        SawBareLineEnding = true;
                        Emit("\r"u8);
                        _state = State.Text;
                    }
                    break;
                case State.LineStart:
                    if (input[i] == (byte)'.')
                    {
                        _state = State.Dot;
                        i++;
                    }
                    else
                    {
                        _state = State.Text;
                    }
                    break;
                case State.Dot:
                    // RFC 5321 §4.5.2: a line starting with "." and holding more characters loses
                    // its first "."; the byte after it is ordinary text.
                    if (input[i] == (byte)'\r')
                    {
                        _state = State.DotCr;
                        i++;
                    }
                    else
                    {
                        _state = State.Text;
                    }
                    break;
                case State.DotCr:
                    if (input[i] == (byte)'\n')
                    {
                        _state = State.Done;
                        i++;
                    }
                    else
                    {
                        // "." CR <not LF>: the line is "." plus a bare CR, not the end of data.
                        SawBareLineEnding = true;
                        Emit("\r"u8);
                        _state = State.Text;
                    }
                    break;
            }
        }
        return i;
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }
        bool wasWithinLimit = _size <= _maxSize;
        _size += bytes.Length;
        if (_size <= _maxSize)
        {
            _output.Write(bytes);
        }
        else if (wasWithinLimit)
        {
            // Over the limit: drop what was kept so far; only the end of data matters now.
            _output.Reset();
        }
    }
}
