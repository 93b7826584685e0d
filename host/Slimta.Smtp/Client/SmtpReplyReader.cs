using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

/// <summary>
/// Reads SMTP replies (RFC 5321 §4.2) from a stream through a <see cref="PipeReader"/>. Memory is
/// bounded: a line longer than the limit or a reply with too many lines is a protocol error.
/// </summary>
/// <remarks>
/// Replies are parsed straight from the received bytes. A relay reads several replies per
/// message and a server repeats the same few ("250 2.1.0 Ok"), so single-line replies seen
/// recently on this connection are kept with their bytes and handed out again instead of being
/// decoded into new strings (<see cref="Reply"/> is immutable, so sharing one is safe).
/// </remarks>
internal sealed class SmtpReplyReader
{
    private const int CacheSize = 8;
    private readonly PipeReader _reader;
    private readonly int _maxLineLength;
    private readonly int _maxLines;
    private readonly byte[]?[] _cachedLines = new byte[CacheSize][];
    private readonly Reply?[] _cachedReplies = new Reply[CacheSize];
    private int _nextCacheSlot;

    // A multi-line reply being received: its lines so far (0: none), code, status and text.
    private int _lines;
    private int _code;
    private string? _status;
    private StringBuilder? _text;

    public SmtpReplyReader(Stream stream, int maxLineLength, int maxLines)
    {
        // leaveOpen: the stream's owner (the client) closes it; after STARTTLS this reader is
        // dropped while the TCP stream lives on under the SslStream.
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _maxLineLength = maxLineLength;
        _maxLines = maxLines;
    }

    /// <summary>
    /// True when the server already sent bytes that nobody asked for yet. Checked after the 220
    /// reply to STARTTLS: plaintext bytes buffered there would otherwise be read as if they came
    /// through TLS (the CVE-2011-0411 command injection class).
    /// </summary>
    public bool HasBufferedData()
    {
        if (_reader.TryRead(out var result))
        {
            bool any = !result.Buffer.IsEmpty;
            _reader.AdvanceTo(result.Buffer.Start);
            return any;
        }
        return false;
    }

    /// <summary>Stops using the stream (it stays open).</summary>
    public void Complete() => _reader.Complete();

    /// <summary>
    /// Takes one whole reply when the bytes received so far hold it; never waits. Replies to a
    /// pipelined group usually arrive together, so all but the first are taken this way.
    /// </summary>
    public bool TryRead(out Reply reply)
    {
        if (_reader.TryRead(out var result))
        {
            return TryTake(result, out reply);
        }
        reply = null!;
        return false;
    }

    /// <summary>Reads one whole reply, joining the lines of a multi-line reply.</summary>
    public ValueTask<Reply> ReadAsync(CancellationToken cancellationToken) =>
        TryRead(out var reply) ? new ValueTask<Reply>(reply) : ReadSlowAsync(cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Reply> ReadSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TryTake(result, out var reply))
            {
                return reply;
            }
            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
    }

    /// <summary>
    /// Consumes one reply from <paramref name="result"/>, or every complete line of a multi-line
    /// reply received so far (its state is kept, so no line is parsed twice), marks the rest
    /// examined and asks for more.
    /// </summary>
    private bool TryTake(in ReadResult result, out Reply reply)
    {
        var buffer = result.Buffer;
        bool done = TryParseReply(ref buffer, out reply);
        if (done)
        {
            _reader.AdvanceTo(buffer.Start);
            return true;
        }
        _reader.AdvanceTo(buffer.Start, result.Buffer.End);
        if (result.IsCompleted)
        {
            throw new SmtpProtocolException("the server closed the connection", connectionClosed: true);
        }
        return false;
    }

    /// <summary>
    /// Parses lines from the start of <paramref name="buffer"/> and slices off each complete one;
    /// true with the reply once its last line was parsed.
    /// </summary>
    private bool TryParseReply(ref ReadOnlySequence<byte> buffer, out Reply reply)
    {
        reply = null!;
        while (true)
        {
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
            {
                if (reader.Remaining > _maxLineLength)
                {
                    throw new SmtpProtocolException($"reply line longer than {_maxLineLength} bytes");
                }
                return false;
            }
            if (raw.Length > _maxLineLength)
            {
                throw new SmtpProtocolException($"reply line longer than {_maxLineLength} bytes");
            }
            byte[]? rented = null;
            try
            {
                ReadOnlySpan<byte> line;
                if (raw.IsSingleSegment)
                {
                    line = raw.FirstSpan;
                }
                else
                {
                    rented = ArrayPool<byte>.Shared.Rent((int)raw.Length);
                    raw.CopyTo(rented);
                    line = rented.AsSpan(0, (int)raw.Length);
                }
                // RFC 5321 says CRLF; a bare LF is tolerated (Postel), the CR is dropped.
                if (!line.IsEmpty && line[^1] == (byte)'\r')
                {
                    line = line[..^1];
                }
                buffer = buffer.Slice(reader.Position);
                if (TakeLine(line, out reply))
                {
                    return true;
                }
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
    }

    /// <summary>One line of a reply; true with the whole reply after its last line.</summary>
    private bool TakeLine(ReadOnlySpan<byte> line, out Reply reply)
    {
        reply = null!;
        int lineCode = ParseCode(line, out bool last);
        if (_lines == 0 && last)
        {
            // The common case: a single-line reply.
            reply = CachedOrNew(line, lineCode);
            return true;
        }
        if (_lines == 0)
        {
            _code = lineCode;
            _status = null;
            _text = new StringBuilder();
        }
        else if (lineCode != _code)
        {
            // RFC 5321 §4.2.1: every line of a multi-line reply carries the same code.
            throw new SmtpProtocolException($"reply code changed from {_code} to {lineCode} inside a multi-line reply");
        }
        // RFC 2034 §4: the enhanced status code starts the text of every line; keep it once.
        var lineText = line.Length > 4 ? line[4..] : default;
        int space = lineText.IndexOf((byte)' ');
        var first = space < 0 ? lineText : lineText[..space];
        var rest = space < 0 ? default : lineText[(space + 1)..];
        if (_lines == 0 && IsEnhancedStatus(first, _code))
        {
            _status = Encoding.ASCII.GetString(first);
            lineText = rest;
        }
        else if (_status is not null && Ascii.Equals(first, _status))
        {
            lineText = rest;
        }
        var text = _text!;
        if (_lines > 0)
        {
            text.Append('\n');
        }
        // Replies are ASCII, or UTF-8 after SMTPUTF8 (RFC 6531 §3.7.4); invalid bytes become U+FFFD.
        text.Append(Encoding.UTF8.GetString(lineText));
        _lines++;
        if (last)
        {
            reply = new Reply(_code, _status, text.ToString());
            _lines = 0;
            _text = null;
            return true;
        }
        if (_lines >= _maxLines)
        {
            throw new SmtpProtocolException($"reply has more than {_maxLines} lines");
        }
        return false;
    }

    /// <summary>A single-line reply: the one seen before with the same bytes, or a new one remembered for next time.</summary>
    private Reply CachedOrNew(ReadOnlySpan<byte> line, int code)
    {
        for (int i = 0; i < CacheSize; i++)
        {
            if (_cachedLines[i] is { } cached && line.SequenceEqual(cached))
            {
                return _cachedReplies[i]!;
            }
        }
        var text = line.Length > 4 ? line[4..] : default;
        int space = text.IndexOf((byte)' ');
        var first = space < 0 ? text : text[..space];
        Reply reply = IsEnhancedStatus(first, code)
            ? new Reply(code, Encoding.ASCII.GetString(first), space < 0 ? string.Empty : Encoding.UTF8.GetString(text[(space + 1)..]))
            : new Reply(code, null, Encoding.UTF8.GetString(text));
        // Long lines (a queue id, a timestamp) rarely repeat; only short ones are worth keeping.
        if (line.Length <= 128)
        {
            int slot = _nextCacheSlot;
            _nextCacheSlot = (slot + 1) % CacheSize;
            _cachedLines[slot] = line.ToArray();
            _cachedReplies[slot] = reply;
        }
        return reply;
    }

    /// <summary>The reply code of one line and whether it is the last line (space, or nothing, after the code).</summary>
    private static int ParseCode(ReadOnlySpan<byte> line, out bool last)
    {
        if (line.Length < 3 || !char.IsAsciiDigit((char)line[0]) || !char.IsAsciiDigit((char)line[1]) || !char.IsAsciiDigit((char)line[2])
            || line[0] < (byte)'2' || line[0] > (byte)'5')
        {
            throw Malformed(line);
        }
        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (line.Length == 3)
        {
            last = true;
            return code;
        }
        last = line[3] switch
        {
            (byte)' ' => true,
            (byte)'-' => false,
            _ => throw Malformed(line),
        };
        return code;
    }

    /// <summary>RFC 3463 §2 <c>class.subject.detail</c> with the class of the reply, checked on the bytes.</summary>
    private static bool IsEnhancedStatus(ReadOnlySpan<byte> text, int code)
    {
        if (text.Length < 5 || text[0] - '0' != code / 100 || text[1] != (byte)'.')
        {
            return false;
        }
        var rest = text[2..];
        int dot = rest.IndexOf((byte)'.');
        return dot is >= 1 and <= 3 && !rest[..dot].ContainsAnyExceptInRange((byte)'0', (byte)'9')
            && rest.Length - dot - 1 is >= 1 and <= 3 && !rest[(dot + 1)..].ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    private static SmtpProtocolException Malformed(ReadOnlySpan<byte> line)
    {
        var text = Encoding.UTF8.GetString(line);
        return new SmtpProtocolException($"malformed reply line: '{(text.Length <= 80 ? text : text[..80] + "…")}'");
    }
}
