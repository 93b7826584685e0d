using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Relaying;
using Slimta.Plugins.Smtp.MtaSts;
using Slimta.Smtp.Client;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// Builds <c>static</c> (SMTP to one smart host), <c>lmtp</c> and <c>mx</c> relays. Keys of all
/// three: <c>port</c> (25; lmtp: 24), <c>ehlo_as</c> (default the process fqdn;
/// <c>{fqdn}</c>/<c>{hostname}</c> expanded), <c>connect_timeout</c> (30), <c>command_timeout</c>
/// (30), <c>data_timeout</c> (60), <c>idle_timeout</c> (10; 0 disables reuse),
/// <c>concurrent_connections</c> (5, per destination), <c>tls</c> (<c>required</c>,
/// <c>verify</c>, <c>ca_file</c>; see <see cref="TlsSettings"/>), <c>eight_bit</c>
/// (<c>convert</c> or <c>refuse</c>), <c>connect_retries</c> (1; mx: 0),
/// <c>circuit_breaker</c> (<c>failures</c> 5, <c>duration</c> 30). static and lmtp: <c>host</c>
/// (required for static; lmtp: localhost), <c>credentials</c> (<c>username</c>,
/// <c>password</c>). mx: <c>ipv4_only</c>, <c>force_mx</c> (<c>{domain: host[:port]}</c>),
/// <c>dns</c> (<c>servers</c>, <c>timeout</c>), <c>mta_sts</c> (RFC 8461; see <see cref="MtaStsSettings"/>).
/// </summary>
public sealed class SmtpRelayFactory : IComponentFactory<IRelay>
{
    private readonly RelayKind _kind;

    /// <summary>Creates the factory for <c>static</c> (<paramref name="lmtp"/> false) or <c>lmtp</c>.</summary>
    public SmtpRelayFactory(bool lmtp) => _kind = lmtp ? RelayKind.Lmtp : RelayKind.Static;

    private SmtpRelayFactory(RelayKind kind) => _kind = kind;

    /// <summary>The factory for the <c>mx</c> relay.</summary>
    public static SmtpRelayFactory ForMx() => new(RelayKind.Mx);

    /// <inheritdoc />
    public void Validate(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SmtpRelaySettings.Parse(options, _kind);
    }

    /// <inheritdoc />
    public IRelay Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var settings = SmtpRelaySettings.Parse(options, _kind);
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
            EightBitConverter = settings.EightBit == EightBitMode.Convert ? EightBitConverter.Convert : null,
        };
        if (_kind == RelayKind.Mx)
        {
            var mxLogger = context.Loggers.CreateLogger(typeof(MxRelay).FullName!);
            var resolver = new MxResolver(settings.Dns, settings.Ipv4Only);
            MtaStsResolver? sts = null;
            if (settings.MtaSts.Enabled)
            {
                X509Certificate2Collection? stsCas = null;
                if (settings.MtaSts.CaFile is { } stsCaFile)
                {
                    var path = context.ResolvePath(stsCaFile);
                    try
                    {
                        stsCas = [];
                        stsCas.ImportFromPemFile(path);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
                    {
                        throw new ConfigException(ConfigNode.Combine(options.PathOf("mta_sts"), "ca_file"), $"cannot read CA certificates from '{path}': {e.Message}", options.Map.Location, e);
                    }
                }
                var cacheFile = settings.MtaSts.CacheFile is { } file ? context.ResolvePath(file) : null;
                if (cacheFile is not null && Path.GetDirectoryName(Path.GetFullPath(cacheFile)) is { } cacheDir && !Directory.Exists(cacheDir))
                {
                    throw new ConfigException(ConfigNode.Combine(options.PathOf("mta_sts"), "cache_file"), $"the directory '{cacheDir}' does not exist", options.Map.Location);
                }
                if (cacheFile is not null && Directory.Exists(cacheFile))
                {
                    throw new ConfigException(ConfigNode.Combine(options.PathOf("mta_sts"), "cache_file"), $"'{cacheFile}' is a directory; name a file in it", options.Map.Location);
                }
                sts = new MtaStsResolver(settings.MtaSts, resolver, stsCas, context.Time, mxLogger, cacheFile);
            }
            return new MxRelay(
                settings,
                resolver,
                destination => new PooledDestination(new SmtpConnector(settings, destination, clientOptions, cas, mxLogger), settings, context.Time, mxLogger),
                mxLogger,
                sts,
                context.Time);
        }
        var logger = context.Loggers.CreateLogger(typeof(SmtpRelay).FullName!);
        var connector = new SmtpConnector(settings, new SmtpDestination(settings.Host, settings.Port), clientOptions, cas, logger);
        return new SmtpRelay(new PooledDestination(connector, settings, context.Time, logger));
    }
}
