using Slimta.Smtp.Server;

namespace Slimta.Host.Edge.Auth;

/// <summary>Checks AUTH credentials against an <see cref="ICredentialStore"/> with <see cref="PasswordHash"/>.</summary>
public sealed class CredentialAuthenticator : ISmtpAuthenticator
{
    // Verified when the user is unknown so that a miss costs about as much as a wrong password
    // (no user enumeration by timing). Its password is unknowable: the hash is of random bytes.
    private const string DummyHash = "$pbkdf2-sha256$100000$c2xpbXRhLWR1bW15LXNhbHQ$2wPmTWXkWjYx0eydJZ3uQ4kM5VrN3mJq2H1b9e6qKQo";

    private readonly ICredentialStore _store;

    /// <summary>Creates the authenticator over <paramref name="store"/>.</summary>
    public CredentialAuthenticator(ICredentialStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <inheritdoc />
    public async ValueTask<bool> CheckAsync(string username, ReadOnlyMemory<byte> password, CancellationToken cancellationToken)
    {
        var hash = await _store.FindHashAsync(username, cancellationToken).ConfigureAwait(false);
        if (hash is null)
        {
            PasswordHash.Verify(DummyHash, password.Span);
            return false;
        }
        return PasswordHash.Verify(hash, password.Span);
    }
}
