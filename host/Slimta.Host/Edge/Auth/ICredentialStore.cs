namespace Slimta.Host.Edge.Auth;

/// <summary>
/// Where AUTH users and their password hashes are found (<c>rules.lookup_credentials</c>). The
/// <c>config</c> type is <see cref="ConfigCredentialStore"/>; other lookup types (redis, sqlite3)
/// implement this interface.
/// </summary>
public interface ICredentialStore
{
    /// <summary>The stored hash of <paramref name="username"/> (see <see cref="PasswordHash"/>), or null when the user is unknown.</summary>
    ValueTask<string?> FindHashAsync(string username, CancellationToken cancellationToken);
}
