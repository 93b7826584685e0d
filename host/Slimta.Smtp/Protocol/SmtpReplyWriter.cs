using System.Buffers;
using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Protocol;

/// <summary>Writes SMTP replies (RFC 5321 §4.2) with their enhanced status codes (RFC 2034).</summary>
public static class SmtpReplyWriter
{
    private const int MaxTextLength = 500;

    /// <summary>
    /// Writes <paramref name="reply"/>: one line per <c>\n</c>-separated line of its text, the
    /// last with a space after the code and the others with a hyphen; the enhanced status code,
    /// when present, is repeated on every line. Bytes outside printable US-ASCII are replaced by
    /// <c>?</c> so reply text (which may come from a next hop) cannot inject lines.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, Reply reply)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(reply);
        int code = Math.Clamp(reply.Code, 200, 599);
        // Walked in place rather than split: a reply is written for every command.
        var rest = reply.Text.AsSpan();
        while (true)
        {
            int newline = rest.IndexOf('\n');
            bool last = newline < 0;
            var text = (last ? rest : rest[..newline]).TrimEnd('\r');
            rest = last ? default : rest[(newline + 1)..];
            if (text.Length > MaxTextLength)
            {
                text = text[..MaxTextLength];
            }
            int length = 3 + 1 + (reply.EnhancedStatus is null ? 0 : reply.EnhancedStatus.Length + 1) + text.Length + 2;
            var span = output.GetSpan(length);
            int pos = 0;
            span[pos++] = (byte)('0' + code / 100);
            span[pos++] = (byte)('0' + code / 10 % 10);
            span[pos++] = (byte)('0' + code % 10);
            span[pos++] = last ? (byte)' ' : (byte)'-';
            if (reply.EnhancedStatus is { } status)
            {
                pos += Ascii(status, span[pos..]);
                span[pos++] = (byte)' ';
            }
            pos += Ascii(text, span[pos..]);
            span[pos++] = (byte)'\r';
            span[pos++] = (byte)'\n';
            output.Advance(pos);
            if (last)
            {
                return;
            }
        }
    }

    private static int Ascii(ReadOnlySpan<char> text, Span<byte> destination)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            destination[i] = c is >= ' ' and <= '~' or '\t' ? (byte)c : (byte)'?';
        }
        return text.Length;
    }
}
