using System.Security.Cryptography;
using MimeKit.Cryptography;

namespace Slimta.Plugins.MailAuth.Dkim;

/// <summary>
/// The DKIM body hash (<c>bh=</c>, RFC 6376 §3.7) of message bytes exactly as the SMTP client will
/// send them, computed independently of MimeKit. <c>dkim_sign</c> compares it with the hash in the
/// signature MimeKit made from its parsed copy of the message: if MimeKit would have written the
/// body differently, the signature would not verify at the receiver, and it is not sent.
/// </summary>
internal static class DkimBodyHash
{
    /// <summary>Base64 SHA-256 of the canonicalized body; <paramref name="body"/> starts after the blank line.</summary>
    public static string Compute(ReadOnlySpan<byte> body, DkimCanonicalizationAlgorithm canonicalization)
    {
        var lines = new List<byte[]>();
        int pos = 0;
        while (pos < body.Length)
        {
            // Lines end with CRLF; a bare LF is taken as a line end too (MimeKit does the same).
            int nl = body[pos..].IndexOf((byte)'\n');
            int end = nl < 0 ? body.Length : pos + nl;
            int contentEnd = end > pos && body[end - 1] == (byte)'\r' ? end - 1 : end;
            var line = body[pos..contentEnd];
            lines.Add(canonicalization == DkimCanonicalizationAlgorithm.Relaxed ? Relax(line) : line.ToArray());
            pos = nl < 0 ? body.Length : end + 1;
        }
        // §3.4.3 / §3.4.4: trailing empty lines are ignored.
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (lines.Count == 0)
        {
            // §3.4.3: an empty body is one CRLF in simple; §3.4.4 (erratum 1384): nothing in relaxed.
            if (canonicalization == DkimCanonicalizationAlgorithm.Simple)
            {
                hash.AppendData("\r\n"u8);
            }
        }
        foreach (var line in lines)
        {
            hash.AppendData(line);
            hash.AppendData("\r\n"u8);
        }
        return Convert.ToBase64String(hash.GetHashAndReset());
    }

    /// <summary>§3.4.4: white space runs become one space; white space at the end of the line goes.</summary>
    private static byte[] Relax(ReadOnlySpan<byte> line)
    {
        var result = new List<byte>(line.Length);
        bool space = false;
        foreach (var b in line)
        {
            if (b is (byte)' ' or (byte)'\t')
            {
                space = true;
                continue;
            }
            if (space)
            {
                result.Add((byte)' ');
                space = false;
            }
            result.Add(b);
        }
        return result.ToArray();
    }
}
