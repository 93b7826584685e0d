using System.Text;
using MimeKit;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>The MimeKit conversion of 8-bit messages for servers without 8BITMIME.</summary>
public sealed class EightBitConverterTests
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Convert_NonMimeEightBitBody_SevenBitAndSameTextAndHeadersKept()
    {
        var original = "From: a@x.test\r\nSubject: plain\r\n\r\ncaf\u00e9\r\n";

        var converted = EightBitConverter.Convert(Bytes(original));

        Assert.NotNull(converted);
        var bytes = converted.Value.ToArray();
        Assert.DoesNotContain(bytes, b => b >= 0x80);
        Assert.StartsWith("From: a@x.test\r\nSubject: plain\r\n", Encoding.ASCII.GetString(bytes));
        using var stream = new MemoryStream(bytes);
        var parsed = MimeMessage.Load(stream);
        Assert.Contains("caf\u00e9", parsed.TextBody);
    }

    [Fact]
    public void Convert_MultipartWithEightBitTextAndBinaryAttachment_QuotedPrintableAndBase64()
    {
        var original =
            "From: a@x.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\u00fcber\r\n" +
            "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\u00ff\u00fe data\r\n" +
            "--b1\r\nContent-Type: text/plain\r\n\r\nascii only\r\n--b1--\r\n";

        var converted = EightBitConverter.Convert(Bytes(original));

        Assert.NotNull(converted);
        var text = Encoding.ASCII.GetString(converted.Value.Span);
        Assert.DoesNotContain(converted.Value.ToArray(), b => b >= 0x80);
        Assert.Contains("Content-Transfer-Encoding: quoted-printable", text);
        Assert.Contains("Content-Transfer-Encoding: base64", text);
        Assert.Contains("ascii only", text);
        using var stream = new MemoryStream(converted.Value.ToArray());
        var parts = MimeMessage.Load(stream).BodyParts.OfType<MimePart>().ToList();
        Assert.Equal("\u00fcber", ((TextPart)parts[0]).Text.TrimEnd());
        using var attachment = new MemoryStream();
        parts[1].Content!.DecodeTo(attachment);
        Assert.Equal(Bytes("\u00ff\u00fe data"), attachment.ToArray().AsSpan().TrimEnd("\r\n"u8).ToArray());
    }

    [Fact]
    public void Convert_EightBitHeader_Null()
    {
        Assert.Null(EightBitConverter.Convert(Bytes("Subject: caf\u00e9\r\n\r\nbody\r\n")));
    }
}
