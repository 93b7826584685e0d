using Slimta.Abstractions.Configuration;
using Slimta.Host.Edge.Auth;
using Slimta.Host.Edge.Tls;

namespace Slimta.Host.Edge;

/// <summary>
/// Reads the TLS, AUTH and PROXY keys of an smtp edge: <c>tls</c>, <c>tls_immediately</c>,
/// <c>proxyprotocol</c>, <c>rules.lookup_credentials</c>, <c>rules.auth_plaintext</c>, <c>rules.require_tls</c>.
/// </summary>
internal static class SmtpSecurityOptionsParser
{
    /// <summary>The edge keys read here.</summary>
    public static readonly string[] Keys = ["tls", "tls_immediately", "proxyprotocol"];

    /// <summary>The <c>rules</c> keys read here.</summary>
    public static readonly string[] RuleKeys = ["lookup_credentials", "auth_plaintext", "require_tls"];

    public static SmtpEdgeOptions Apply(ComponentOptions options, ComponentOptions? rules, SmtpEdgeOptions parsed)
    {
        var tls = ParseTls(options);
        bool tlsImmediately = options.GetBoolean("tls_immediately", false);
        if (tlsImmediately && tls is null)
        {
            throw options.Error("tls_immediately", "needs 'tls: {certfile, keyfile}'");
        }
        var credentials = rules is null ? null : ParseCredentials(rules);
        bool authPlaintext = rules?.GetBoolean("auth_plaintext", false) ?? false;
        bool requireTls = rules?.GetBoolean("require_tls", false) ?? false;
        if (requireTls && tls is null)
        {
            throw rules!.Error("require_tls", "needs 'tls: {certfile, keyfile}' on the edge");
        }
        if (credentials is not null && tls is null && !authPlaintext)
        {
            // MAIL would require an AUTH that is never offered: say so at startup.
            throw rules!.Error("lookup_credentials", "AUTH is offered only over TLS: configure 'tls', or set 'rules.auth_plaintext: true' to allow passwords in the clear");
        }
        return parsed with
        {
            Tls = tls,
            TlsImmediately = tlsImmediately,
            ProxyProtocol = options.GetBoolean("proxyprotocol", false),
            Credentials = credentials,
            AuthPlaintext = authPlaintext,
            RequireTls = requireTls,
        };
    }

    private static TlsFileOptions? ParseTls(ComponentOptions options)
    {
        if (options.Map["tls"] is null or ConfigScalar { Value: null })
        {
            return null;
        }
        if (options.Map["tls"] is ConfigScalar scalar && scalar.Value!.ToLowerInvariant() is "false" or "no" or "off")
        {
            return null;
        }
        var tls = options.GetSection("tls") ?? throw options.Error("tls", "expected {certfile, keyfile, ca_certs}");
        tls.RequireKnownKeys("certfile", "keyfile", "ca_certs");
        return new TlsFileOptions(tls.GetRequiredString("certfile"), tls.GetString("keyfile"), tls.GetString("ca_certs"));
    }

    private static ConfigCredentialStore? ParseCredentials(ComponentOptions rules)
    {
        var lookup = rules.GetSection("lookup_credentials");
        if (lookup is null)
        {
            return null;
        }
        var type = lookup.GetRequiredString("type");
        switch (type.ToLowerInvariant())
        {
            case "config":
                break;
            case "redis":
            case "sqlite3":
                throw lookup.Error("type", $"lookup type '{type}' is not supported yet for credentials; use 'config'");
            default:
                throw lookup.Error("type", $"unknown lookup type '{type}'; known: config");
        }
        lookup.RequireKnownKeys("type", "map");
        var map = lookup.GetStringMap("map");
        if (!lookup.Has("map"))
        {
            throw lookup.Error(null, "the key 'map' is required");
        }
        foreach (var (user, hash) in map)
        {
            if (!PasswordHash.IsSupported(hash))
            {
                // Never echo the value: it may be a plaintext password by mistake.
                throw new ConfigException(ConfigNode.Combine(lookup.PathOf("map"), user),
                    "not a supported password hash ($pbkdf2-sha256$… or $6$…; see docs/configuration.md); plaintext passwords are refused", lookup.Map.Location);
            }
        }
        return new ConfigCredentialStore(map);
    }
}
