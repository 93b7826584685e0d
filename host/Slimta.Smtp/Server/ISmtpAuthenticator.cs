namespace Slimta.Smtp.Server;

/// <summary>Checks the credentials given with AUTH (RFC 4954). Implementations compare against stored hashes, never plaintext.</summary>
public interface ISmtpAuthenticator
{
    /// <summary>True when <paramref name="password"/> is the password of <paramref name="username"/>.</summary>
    /// <param name="username">The authentication identity, as the client sent it.</param>
    /// <param name="password">The password bytes (UTF-8); the caller clears them afterwards.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    ValueTask<bool> CheckAsync(string username, ReadOnlyMemory<byte> password, CancellationToken cancellationToken);
}
