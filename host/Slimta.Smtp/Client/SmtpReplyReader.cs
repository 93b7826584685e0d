using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

/// <summary>
/// Reads SMTP replies (RFC 5321 §4.2) from a stream through a <see cref="PipeReader"/>. Memory is
/// bounded: a line longer than the limit or a reply with too many lines is a protocol error.
/// </summary>
internal sealed class SmtpReplyReader
{
    private readonly PipeReader _reader;
    private readonly int _maxLineLength;
    private readonly int _maxLines;

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

    /// <summary>Reads one whole reply, joining the lines of a multi-line reply.</summary>
    public async ValueTask<Reply> ReadAsync(CancellationToken cancellationToken)
    {
        int code = -1;
        string? status = null;
        var text = new StringBuilder();
        for (int count = 0; ; count++)
        {
            if (count >= _maxLines)
            {
                throw new SmtpProtocolException($"reply has more than {_maxLines} lines");
            }
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            var (lineCode, last, lineText) = ParseLine(line);
            if (code < 0)
            {
                code = lineCode;
            }
            else if (lineCode != code)
            {
                // RFC 5321 §4.2.1: every line of a multi-line reply carries the same code.
                throw new SmtpProtocolException($"reply code changed from {code} to {lineCode} inside a multi-line reply");
            }
            // RFC 2034 §4: the enhanced status code starts the text of every line; keep it once.
            int space = lineText.IndexOf(' ');
            var first = space < 0 ? lineText : lineText[..space];
            if (count == 0 && Reply.IsEnhancedStatus(first, code))
            {
                status = first;
                lineText = space < 0 ? string.Empty : lineText[(space + 1)..];
            }
            else if (status is not null && first == status)
            {
                lineText = space < 0 ? string.Empty : lineText[(space + 1)..];
            }
            if (count > 0)
            {
                text.Append('\n');
            }
            text.Append(lineText);
            if (last)
            {
                return new Reply(code, status, text.ToString());
            }
        }
    }

    private static (int Code, bool Last, string Text) ParseLine(string line)
    {
        if (line.Length < 3 || !char.IsAsciiDigit(line[0]) || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2])
            || line[0] < '2' || line[0] > '5')
        {
            throw new SmtpProtocolException($"malformed reply line: '{Truncate(line)}'");
        }
        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (line.Length == 3)
        {
            return (code, true, string.Empty);
        }
        return line[3] switch
        {
            ' ' => (code, true, line[4..]),
            '-' => (code, false, line[4..]),
            _ => throw new SmtpProtocolException($"malformed reply line: '{Truncate(line)}'"),
        };
    }

    private static string Truncate(string line) => line.Length <= 80 ? line : line[..80] + "…";

    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryTakeLine(ref buffer, out var line))
            {
                _reader.AdvanceTo(buffer.Start);
                return line;
            }
            if (buffer.Length > _maxLineLength)
            {
                _reader.AdvanceTo(buffer.Start, buffer.End);
                throw new SmtpProtocolException($"reply line longer than {_maxLineLength} bytes");
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new SmtpProtocolException("the server closed the connection", connectionClosed: true);
            }
            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
    }

    private bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out string line)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
        {
            line = string.Empty;
            return false;
        }
        if (raw.Length > _maxLineLength)
        {
            throw new SmtpProtocolException($"reply line longer than {_maxLineLength} bytes");
        }
        // RFC 5321 says CRLF; a bare LF is tolerated (Postel), the CR is dropped.
        if (raw.Length > 0 && raw.Slice(raw.Length - 1).FirstSpan[0] == (byte)'\r')
        {
            raw = raw.Slice(0, raw.Length - 1);
        }
        // Replies are ASCII, or UTF-8 after SMTPUTF8 (RFC 6531 §3.7.4); invalid bytes become U+FFFD.
        line = Encoding.UTF8.GetString(raw);
        buffer = buffer.Slice(reader.Position);
        return true;
    }
}
