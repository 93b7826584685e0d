using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Slimta.Host.Edge.Auth;

/// <summary>
/// Verifies passwords against stored hashes; plaintext is never stored nor compared. Accepted formats:
/// <list type="bullet">
/// <item><c>$pbkdf2-sha256$ITERATIONS$SALT$HASH</c>: PBKDF2-HMAC-SHA256 (RFC 8018), salt and hash in
/// base64 with or without padding, or passlib's variant with <c>.</c> for <c>+</c>.</item>
/// <item><c>$6$[rounds=N$]SALT$HASH</c>: SHA-512-crypt, as made by <c>openssl passwd -6</c> or <c>mkpasswd -m sha-512</c>.</item>
/// </list>
/// </summary>
public static class PasswordHash
{
    /// <summary>The most PBKDF2 iterations accepted: beyond this one AUTH attempt costs seconds of CPU.</summary>
    public const int MaxIterations = 10_000_000;

    private const string Pbkdf2Prefix = "$pbkdf2-sha256$";

    /// <summary>True when <paramref name="hash"/> is in a format <see cref="Verify"/> understands.</summary>
    public static bool IsSupported(string hash) => TryParsePbkdf2(hash, out _, out _, out _) || Sha512Crypt.TryParse(hash, out _, out _, out _);

    /// <summary>
    /// True when <paramref name="password"/> (UTF-8 bytes) matches <paramref name="hash"/>. The final
    /// comparison takes the same time wherever the first difference is. An unsupported hash never matches.
    /// </summary>
    public static bool Verify(string hash, ReadOnlySpan<byte> password)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (TryParsePbkdf2(hash, out int iterations, out var salt, out var expected))
        {
            var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        if (Sha512Crypt.TryParse(hash, out int rounds, out var cryptSalt, out var encoded))
        {
            var computed = Sha512Crypt.Hash(password, cryptSalt, rounds);
            return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(encoded));
        }
        return false;
    }

    private static bool TryParsePbkdf2(string text, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = hash = [];
        if (!text.StartsWith(Pbkdf2Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = text[Pbkdf2Prefix.Length..].Split('$');
        return parts.Length == 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out iterations)
            && iterations is >= 1 and <= MaxIterations
            && TryBase64(parts[1], out salt)
            && TryBase64(parts[2], out hash)
            && hash.Length >= 16;
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = [];
        var normal = text.Replace('.', '+');
        normal += new string('=', (4 - normal.Length % 4) % 4);
        try
        {
            bytes = Convert.FromBase64String(normal);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
