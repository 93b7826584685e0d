using System.Runtime.InteropServices;
using MimeKit;
using MimeKit.IO;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// Re-encodes the 8-bit body parts of a message as quoted-printable (text) or base64 (anything
/// else) for a server without 8BITMIME (RFC 6152 §3, RFC 2045 §6). Headers keep their bytes
/// (MimeKit writes parsed headers back raw); only the changed parts' Content-Transfer-Encoding
/// differs. A message whose 8-bit bytes are in a header section (which would need SMTPUTF8 or
/// RFC 2047 rewriting) or anywhere a MIME part cannot reach (a preamble, an attached message's
/// headers) is not converted: the caller then refuses it with 5.6.3.
/// </summary>
internal static class EightBitConverter
{
    /// <summary>The 7-bit message, or null when it cannot be converted.</summary>
    public static ReadOnlyMemory<byte>? Convert(ReadOnlyMemory<byte> message)
    {
        var raw = new Slimta.Abstractions.Envelopes.RawMessage(message);
        if (Has8Bit(raw.Headers.Span))
        {
            return null;
        }
        MimeMessage parsed;
        var bytes = MemoryMarshal.TryGetArray(message, out var segment) ? segment : new ArraySegment<byte>(message.ToArray());
        using (var input = new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false))
        {
            try
            {
                parsed = MimeMessage.Load(input);
            }
            catch (FormatException)
            {
                return null;
            }
        }
        foreach (var part in parsed.BodyParts.OfType<MimePart>())
        {
            if (part.Content is null || !RawContentHas8Bit(part))
            {
                continue;
            }
            part.ContentTransferEncoding = part is TextPart ? ContentEncoding.QuotedPrintable : ContentEncoding.Base64;
        }
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream(message.Length + message.Length / 3);
        parsed.WriteTo(options, output);
        var result = output.ToArray();
        return Has8Bit(result) ? null : result;
    }

    private static bool RawContentHas8Bit(MimePart part)
    {
        if (part.Content?.Stream is not { } stream)
        {
            return false;
        }
        using var content = new MemoryBlockStream();
        stream.Position = 0;
        stream.CopyTo(content);
        stream.Position = 0;
        return Has8Bit(content.ToArray());
    }

    private static bool Has8Bit(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
}
