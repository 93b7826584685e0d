namespace Slimta.Host.Edge.Auth;

/// <summary>Users and hashes given in the configuration (<c>lookup_credentials: {type: config, map: {user: hash}}</c>).</summary>
public sealed class ConfigCredentialStore : ICredentialStore
{
    private readonly Dictionary<string, string> _hashes;

    /// <summary>Creates the store; user names are matched exactly (case-sensitive).</summary>
    public ConfigCredentialStore(IEnumerable<KeyValuePair<string, string>> hashes) =>
        _hashes = new Dictionary<string, string>(hashes, StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<string?> FindHashAsync(string username, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_hashes.GetValueOrDefault(username));
}
