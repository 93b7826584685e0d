namespace Slimta.Smtp.Client;

/// <summary>
/// Produces the DATA stream of a message (RFC 5321 §4.5.2): the message bytes unchanged except
/// that a '.' is doubled at the start of every line, then CRLF if the message does not already
/// end with one, then the terminating <c>.CRLF</c>. The body is never decoded.
/// </summary>
/// <remarks>
/// A line starts after every LF, not only after CRLF: a bare LF followed by '.' would otherwise
/// end DATA early on servers that accept bare LF line ends (the "SMTP smuggling" family).
/// </remarks>
internal sealed class DotStuffer
{
    private readonly ReadOnlyMemory<byte> _message;
    private static readonly byte[] DotLine = ".\r\n"u8.ToArray();
    private static readonly byte[] CrlfDotLine = "\r\n.\r\n"u8.ToArray();
    private readonly byte[] _tail;
    private int _pos;
    private int _tailPos;
    private bool _atLineStart = true;

    public DotStuffer(ReadOnlyMemory<byte> message)
    {
        _message = message;
        var span = message.Span;
        _tail = span.Length == 0 || span.EndsWith("\r\n"u8) ? DotLine : CrlfDotLine;
    }

    /// <summary>True when every byte has been produced.</summary>
    public bool IsCompleted => _pos == _message.Length && _tailPos == _tail.Length;

    /// <summary>Fills <paramref name="destination"/> (any non-empty buffer) with the next bytes; returns the count.</summary>
    public int Fill(Span<byte> destination)
    {
        var src = _message.Span;
        int written = 0;
        while (written < destination.Length && _pos < src.Length)
        {
            if (_atLineStart)
            {
                _atLineStart = false;
                if (src[_pos] == (byte)'.')
                {
                    destination[written++] = (byte)'.';
                    continue;
                }
            }
            int room = Math.Min(destination.Length - written, src.Length - _pos);
            var chunk = src.Slice(_pos, room);
            int nl = chunk.IndexOf((byte)'\n');
            int n = nl < 0 ? room : nl + 1;
            chunk[..n].CopyTo(destination[written..]);
            written += n;
            _pos += n;
            _atLineStart = nl >= 0;
        }
        if (_pos == src.Length)
        {
            int n = Math.Min(destination.Length - written, _tail.Length - _tailPos);
            _tail.AsSpan(_tailPos, n).CopyTo(destination[written..]);
            written += n;
            _tailPos += n;
        }
        return written;
    }

    /// <summary>The whole DATA stream at once (for tests and small messages).</summary>
    public static byte[] Stuff(ReadOnlyMemory<byte> message)
    {
        var stuffer = new DotStuffer(message);
        using var output = new MemoryStream();
        var buffer = new byte[4096];
        while (!stuffer.IsCompleted)
        {
            int n = stuffer.Fill(buffer);
            output.Write(buffer, 0, n);
        }
        return output.ToArray();
    }
}
