using System.Text;

namespace Slimta.Abstractions.Envelopes;

/// <summary>
/// The bytes of a message (RFC 5322 header section, blank line, body), immutable. Header access
/// parses only the header section; an edit returns a new message whose bytes differ from the old
/// ones only where the header was added or removed — the body and every other header are copied
/// byte for byte, never decoded and re-encoded.
/// </summary>
public sealed class RawMessage
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private readonly ReadOnlyMemory<byte> _bytes;
    private int _headerLength = -1;

    /// <summary>Wraps message bytes. The memory must not be changed afterwards.</summary>
    public RawMessage(ReadOnlyMemory<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps message bytes.</summary>
    public RawMessage(byte[] bytes) : this(new ReadOnlyMemory<byte>(bytes)) { }

    /// <summary>The whole message.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>Length of the message in bytes.</summary>
    public int Length => _bytes.Length;

    /// <summary>
    /// Length of the header section including the line ending of its last header line, not
    /// including the blank line. Equals <see cref="Length"/> when the message has no blank line.
    /// </summary>
    public int HeaderLength
    {
        get
        {
            if (_headerLength < 0)
            {
                _headerLength = FindHeaderEnd(_bytes.Span);
            }
            return _headerLength;
        }
    }

    /// <summary>The header section (see <see cref="HeaderLength"/>).</summary>
    public ReadOnlyMemory<byte> Headers => _bytes[..HeaderLength];

    /// <summary>Everything after the header section (the blank line and the body).</summary>
    public ReadOnlyMemory<byte> Body => _bytes[HeaderLength..];

    /// <summary>Creates a message from text, encoded as UTF-8 (for tests and generated messages).</summary>
    public static RawMessage FromString(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>The first header with this name (case-insensitive), unfolded, decoded as UTF-8; null when absent.</summary>
    public string? GetHeader(string name)
    {
        foreach (var (start, length) in HeaderFields())
        {
            if (NameMatches(start, name))
            {
                return ValueOf(start, length, name.Length);
            }
        }
        return null;
    }

    /// <summary>All headers with this name, in order, unfolded.</summary>
    public IReadOnlyList<string> GetHeaders(string name)
    {
        var list = new List<string>();
        foreach (var (start, length) in HeaderFields())
        {
            if (NameMatches(start, name))
            {
                list.Add(ValueOf(start, length, name.Length));
            }
        }
        return list;
    }

    /// <summary>All header fields as (name, unfolded value) pairs, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> GetAllHeaders()
    {
        var list = new List<KeyValuePair<string, string>>();
        var span = _bytes.Span;
        foreach (var (start, length) in HeaderFields())
        {
            int colon = span.Slice(start, length).IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }
            string name = Encoding.ASCII.GetString(span.Slice(start, colon)).Trim();
            list.Add(new(name, ValueOf(start, length, colon)));
        }
        return list;
    }

    /// <summary>True when a header with this name exists.</summary>
    public bool HasHeader(string name)
    {
        foreach (var (start, _) in HeaderFields())
        {
            if (NameMatches(start, name))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A new message with <c>name: value</c> before the first header (trace headers, RFC 5321 §4.4).</summary>
    public RawMessage PrependHeader(string name, string value)
    {
        byte[] field = FormatField(name, value);
        var result = new byte[field.Length + _bytes.Length];
        field.CopyTo(result, 0);
        _bytes.Span.CopyTo(result.AsSpan(field.Length));
        return new RawMessage(result);
    }

    /// <summary>A new message with <c>name: value</c> after the last header.</summary>
    public RawMessage AppendHeader(string name, string value)
    {
        int end = HeaderLength;
        var span = _bytes.Span;
        // A header section whose last line lacks its line ending (a message of headers only)
        // gets one first, so the new field starts on its own line.
        bool needsBreak = end > 0 && span[end - 1] != (byte)'\n';
        byte[] field = FormatField(name, value);
        var result = new byte[_bytes.Length + field.Length + (needsBreak ? 2 : 0)];
        span[..end].CopyTo(result);
        int pos = end;
        if (needsBreak)
        {
            Crlf.CopyTo(result, pos);
            pos += 2;
        }
        field.CopyTo(result, pos);
        span[end..].CopyTo(result.AsSpan(pos + field.Length));
        return new RawMessage(result);
    }

    /// <summary>A new message without any header of this name (with its folded continuation lines).</summary>
    public RawMessage RemoveHeader(string name)
    {
        var remove = new List<(int Start, int Length)>();
        foreach (var field in HeaderFields())
        {
            if (NameMatches(field.Start, name))
            {
                remove.Add(field);
            }
        }
        if (remove.Count == 0)
        {
            return this;
        }
        int removed = 0;
        foreach (var r in remove)
        {
            removed += r.Length;
        }
        var result = new byte[_bytes.Length - removed];
        var span = _bytes.Span;
        int src = 0, dst = 0;
        foreach (var (start, length) in remove)
        {
            span[src..start].CopyTo(result.AsSpan(dst));
            dst += start - src;
            src = start + length;
        }
        span[src..].CopyTo(result.AsSpan(dst));
        return new RawMessage(result);
    }

    /// <summary>A new message with every <paramref name="name"/> header removed and one added at the end.</summary>
    public RawMessage SetHeader(string name, string value) => RemoveHeader(name).AppendHeader(name, value);

    private static byte[] FormatField(string name, string value)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny(": \t\r\n") >= 0)
        {
            throw new ArgumentException($"'{name}' is not a valid header field name.", nameof(name));
        }
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            // Callers fold long values themselves; a bare line break here would let header
            // text inject new fields or end the header section.
            value = value.ReplaceLineEndings("\r\n");
            value = FoldedOrThrow(value);
        }
        return Encoding.UTF8.GetBytes(name + ": " + value + "\r\n");
    }

    private static string FoldedOrThrow(string value)
    {
        var lines = value.Split("\r\n");
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0 || (lines[i][0] != ' ' && lines[i][0] != '\t'))
            {
                throw new ArgumentException("A header value may contain line breaks only as folding (CRLF followed by white space).", nameof(value));
            }
        }
        return value;
    }

    private bool NameMatches(int start, string name)
    {
        var span = _bytes.Span;
        if (start + name.Length >= HeaderLength)
        {
            return false;
        }
        for (int i = 0; i < name.Length; i++)
        {
            if (char.ToLowerInvariant((char)span[start + i]) != char.ToLowerInvariant(name[i]))
            {
                return false;
            }
        }
        // RFC 5322 forbids white space before the colon, but RFC 822 allowed it; accept it.
        int j = start + name.Length;
        while (j < HeaderLength && (span[j] == (byte)' ' || span[j] == (byte)'\t'))
        {
            j++;
        }
        return j < HeaderLength && span[j] == (byte)':';
    }

    private string ValueOf(int start, int length, int nameLength)
    {
        var field = _bytes.Span.Slice(start, length);
        int colon = field.IndexOf((byte)':');
        if (colon < 0)
        {
            colon = nameLength;
        }
        var raw = Encoding.UTF8.GetString(field[(colon + 1)..]);
        // Unfold (RFC 5322 §2.2.3): remove CRLF (or LF) that precede white space.
        var unfolded = raw.Replace("\r\n", string.Empty).Replace("\n", string.Empty);
        return unfolded.Trim();
    }

    /// <summary>Each header field as (start, length) including continuation lines and line ending.</summary>
    private List<(int Start, int Length)> HeaderFields()
    {
        var fields = new List<(int, int)>();
        var span = _bytes.Span;
        int end = HeaderLength;
        int pos = 0;
        int fieldStart = -1;
        while (pos < end)
        {
            int nl = span[pos..end].IndexOf((byte)'\n');
            int lineEnd = nl < 0 ? end : pos + nl + 1;
            bool continuation = span[pos] == (byte)' ' || span[pos] == (byte)'\t';
            if (!continuation)
            {
                if (fieldStart >= 0)
                {
                    fields.Add((fieldStart, pos - fieldStart));
                }
                fieldStart = pos;
            }
            pos = lineEnd;
        }
        if (fieldStart >= 0)
        {
            fields.Add((fieldStart, end - fieldStart));
        }
        return fields;
    }

    private static int FindHeaderEnd(ReadOnlySpan<byte> span)
    {
        // The header section ends at the first empty line (CRLF CRLF, or LF LF for messages that
        // arrived with bare LF line endings). A message starting with an empty line has no headers.
        if (span.StartsWith("\r\n"u8) || span.StartsWith("\n"u8))
        {
            return 0;
        }
        int pos = 0;
        while (pos < span.Length)
        {
            int nl = span[pos..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                return span.Length;
            }
            int next = pos + nl + 1;
            if (next >= span.Length)
            {
                return span.Length;
            }
            if (span[next] == (byte)'\n' || (span[next] == (byte)'\r' && next + 1 < span.Length && span[next + 1] == (byte)'\n'))
            {
                return next;
            }
            pos = next;
        }
        return span.Length;
    }
}
