using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.MailAuth.Dkim;

/// <summary>
/// Builds <see cref="DkimSignPolicy"/>. Every key file is read when the policy is created (absolute
/// paths already in <see cref="Validate"/>), so a missing or unreadable key, or one that is not RSA
/// (≥ 1024 bits) or Ed25519, is a startup error naming the key's config path and file.
/// </summary>
internal sealed class DkimSignPolicyFactory : IComponentFactory<IRelayPolicy>
{
    public void Validate(ComponentOptions options)
    {
        var settings = DkimSignSettings.Parse(options);
        foreach (var spec in AllSpecs(settings).Where(s => Path.IsPathFullyQualified(s.KeyPath)))
        {
            Load(spec, spec.KeyPath);
        }
    }

    public IRelayPolicy Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = DkimSignSettings.Parse(options);
        var loaded = new Dictionary<string, DkimKey>(StringComparer.Ordinal);
        DkimKey Get(DkimKeySpec spec)
        {
            var path = context.ResolvePath(spec.KeyPath);
            var id = spec.Domain + "\n" + spec.Selector + "\n" + path;
            if (!loaded.TryGetValue(id, out var key))
            {
                key = Load(spec, path);
                loaded[id] = key;
            }
            return key;
        }
        var domains = settings.Domains.ToDictionary(d => d.Key, d => (IReadOnlyList<DkimKey>)d.Value.Select(Get).ToList(), StringComparer.OrdinalIgnoreCase);
        var fallback = settings.Default.Select(Get).ToList();
        return new DkimSignPolicy(settings, domains, fallback, context.Time, context.Loggers.CreateLogger<DkimSignPolicy>());
    }

    private static IEnumerable<DkimKeySpec> AllSpecs(DkimSignSettings settings) => settings.Domains.Values.SelectMany(v => v).Concat(settings.Default);

    private static DkimKey Load(DkimKeySpec spec, string path)
    {
        try
        {
            var (key, algorithm) = DkimKey.ReadPem(path);
            return new DkimKey(spec.Domain, spec.Selector, key, algorithm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new ConfigException(spec.ConfigPath, $"cannot use the DKIM key {path}: {e.Message}", null, e);
        }
    }
}
