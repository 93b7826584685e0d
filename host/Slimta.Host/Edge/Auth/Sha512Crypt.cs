using System.Security.Cryptography;
using System.Text;

namespace Slimta.Host.Edge.Auth;

/// <summary>
/// SHA-512-crypt (<c>$6$[rounds=N$]salt$hash</c>), as glibc crypt(3), <c>openssl passwd -6</c> and
/// <c>mkpasswd -m sha-512</c> make it; the algorithm of Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512".
/// </summary>
internal static class Sha512Crypt
{
    private const string Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int DefaultRounds = 5000;
    private const int MinRounds = 1000;
    private const int MaxRounds = 999_999_999;

    // The order in which the 64 digest bytes are encoded, three at a time (the specification's step 22).
    private static readonly int[] Order =
    [
        0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7,
        50, 8, 29, 9, 30, 51, 31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57,
        37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41,
    ];

    /// <summary>Splits a <c>$6$</c> string into rounds, salt and encoded hash; false when it is malformed.</summary>
    public static bool TryParse(string text, out int rounds, out string salt, out string hash)
    {
        rounds = DefaultRounds;
        salt = hash = string.Empty;
        if (!text.StartsWith("$6$", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = text[3..].Split('$');
        int i = 0;
        if (parts.Length == 3 && parts[0].StartsWith("rounds=", StringComparison.Ordinal))
        {
            if (!int.TryParse(parts[0].AsSpan(7), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out rounds))
            {
                return false;
            }
            rounds = Math.Clamp(rounds, MinRounds, MaxRounds);
            i = 1;
        }
        else if (parts.Length != 2)
        {
            return false;
        }
        salt = parts[i].Length > 16 ? parts[i][..16] : parts[i];
        hash = parts[i + 1];
        return hash.Length == 86 && hash.All(c => Alphabet.Contains(c, StringComparison.Ordinal)) && salt.IndexOfAny(['\n', ':']) < 0;
    }

    /// <summary>The 86-character encoded hash of <paramref name="password"/> with <paramref name="salt"/> and <paramref name="rounds"/>.</summary>
    public static string Hash(ReadOnlySpan<byte> password, string salt, int rounds)
    {
        var s = Encoding.UTF8.GetBytes(salt);
        var p = password.ToArray();
        try
        {
            // B = SHA512(P S P).
            byte[] b;
            using (var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512))
            {
                h.AppendData(p);
                h.AppendData(s);
                h.AppendData(p);
                b = h.GetHashAndReset();
            }
            // A = SHA512(P S B-repeated-to-|P| then, per bit of |P|, B or P).
            byte[] a;
            using (var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512))
            {
                h.AppendData(p);
                h.AppendData(s);
                int n = p.Length;
                for (; n > 64; n -= 64)
                {
                    h.AppendData(b);
                }
                h.AppendData(b, 0, n);
                for (int bits = p.Length; bits > 0; bits >>= 1)
                {
                    h.AppendData((bits & 1) != 0 ? b : p);
                }
                a = h.GetHashAndReset();
            }
            // P-sequence: SHA512(P repeated |P| times), stretched to |P| bytes.
            var pSeq = Sequence(p, p.Length, p.Length);
            // S-sequence: SHA512(S repeated 16 + A[0] times), stretched to |S| bytes.
            var sSeq = Sequence(s, 16 + a[0], s.Length);
            var c = a;
            using (var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512))
            {
                for (int r = 0; r < rounds; r++)
                {
                    h.AppendData((r & 1) != 0 ? pSeq : c);
                    if (r % 3 != 0)
                    {
                        h.AppendData(sSeq);
                    }
                    if (r % 7 != 0)
                    {
                        h.AppendData(pSeq);
                    }
                    h.AppendData((r & 1) != 0 ? c : pSeq);
                    c = h.GetHashAndReset();
                }
            }
            return Encode(c);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(p);
        }
    }

    private static byte[] Sequence(byte[] input, int repeat, int length)
    {
        byte[] digest;
        using (var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512))
        {
            for (int i = 0; i < repeat; i++)
            {
                h.AppendData(input);
            }
            digest = h.GetHashAndReset();
        }
        var result = new byte[length];
        for (int i = 0; i < length; i += 64)
        {
            Array.Copy(digest, 0, result, i, Math.Min(64, length - i));
        }
        return result;
    }

    private static string Encode(byte[] digest)
    {
        var text = new StringBuilder(86);
        for (int i = 0; i < 63; i += 3)
        {
            Append(text, (digest[Order[i]] << 16) | (digest[Order[i + 1]] << 8) | digest[Order[i + 2]], 4);
        }
        Append(text, digest[63], 2);
        return text.ToString();
    }

    private static void Append(StringBuilder text, int value, int count)
    {
        for (int i = 0; i < count; i++)
        {
            text.Append(Alphabet[value & 0x3f]);
            value >>= 6;
        }
    }
}
