using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// Builds <c>static</c> (SMTP to one smart host) and <c>lmtp</c> relays. Keys: <c>host</c>
/// (required for static; lmtp: localhost), <c>port</c> (25; lmtp: 24), <c>ehlo_as</c> (default
/// the process fqdn; <c>{fqdn}</c>/<c>{hostname}</c> expanded), <c>connect_timeout</c> (30),
/// <c>command_timeout</c> (30), <c>data_timeout</c> (60), <c>idle_timeout</c> (10; 0 disables
/// reuse), <c>concurrent_connections</c> (5), <c>tls</c> (<c>required</c>, <c>verify</c>,
/// <c>ca_file</c>; see <see cref="TlsSettings"/>), <c>credentials</c> (<c>username</c>, <c>password</c>).
/// </summary>
public sealed class SmtpRelayFactory : IComponentFactory<IRelay>
{
    private readonly bool _lmtp;

    /// <summary>Creates the factory for <c>static</c> (<paramref name="lmtp"/> false) or <c>lmtp</c>.</summary>
    public SmtpRelayFactory(bool lmtp) => _lmtp = lmtp;

    /// <inheritdoc />
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SmtpRelaySettings.Parse(options, _lmtp);
    }

    /// <inheritdoc />
    public IRelay Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var settings = SmtpRelaySettings.Parse(options, _lmtp);
        X509Certificate2Collection? cas = null;
        if (settings.Tls.CaFile is { } caFile)
        {
            var path = context.ResolvePath(caFile);
            try
            {
                cas = [];
                cas.ImportFromPemFile(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ConfigException(ConfigNode.Combine(options.PathOf("tls"), "ca_file"), $"cannot read CA certificates from '{path}': {e.Message}", options.Map.Location, e);
            }
        }
        var clientOptions = new SmtpClientOptions
        {
            EhloName = context.Expand(settings.EhloAs ?? context.Fqdn),
            Lmtp = settings.Lmtp,
            TimeProvider = context.Time,
            ConnectTimeout = settings.ConnectTimeout,
            CommandTimeout = settings.CommandTimeout,
            DataTimeout = settings.DataTimeout,
        };
        var logger = context.Loggers.CreateLogger(typeof(SmtpRelay).FullName!);
        var connector = new SmtpConnector(settings, clientOptions, cas, logger);
        return new SmtpRelay(connector, settings, context.Time, logger);
    }
}
