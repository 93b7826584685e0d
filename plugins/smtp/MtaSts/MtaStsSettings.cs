using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>
/// The <c>mta_sts</c> key of an <c>mx</c> relay: <c>true</c>/<c>false</c>, or a mapping
/// <c>{enabled, timeout, https_port, ca_file, cache_file}</c>. <c>timeout</c> (10 s) bounds one policy
/// fetch; <c>cache_file</c> keeps the policies seen across restarts (see <see cref="MtaStsCacheFile"/>);
/// <c>https_port</c> (443) and <c>ca_file</c> (the system's trust store) exist for tests and private
/// deployments: they change where policies are fetched from and which CA signs their servers.
/// </summary>
internal sealed record MtaStsSettings(bool Enabled, TimeSpan Timeout, int HttpsPort, string? CaFile, string? CacheFile = null)
{
    public static MtaStsSettings Disabled { get; } = new(false, TimeSpan.FromSeconds(10), 443, null);

    public static MtaStsSettings Parse(ComponentOptions options)
    {
        var node = options.Map["mta_sts"];
        if (node is null)
        {
            return Disabled;
        }
        if (node is not ConfigMap)
        {
            return Disabled with { Enabled = options.GetBoolean("mta_sts", false) };
        }
        var section = options.GetSection("mta_sts")!;
        section.RequireKnownKeys("enabled", "timeout", "https_port", "ca_file", "cache_file");
        var timeout = section.GetSeconds("timeout", Disabled.Timeout);
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromMinutes(1))
        {
            // §3.3: senders should give up on a policy fetch within a minute.
            throw section.Error("timeout", "must be more than 0 and at most 60 seconds");
        }
        var caFile = section.GetString("ca_file");
        if (caFile is { Length: 0 })
        {
            throw section.Error("ca_file", "must not be empty");
        }
        var cacheFile = section.GetString("cache_file");
        if (cacheFile is { Length: 0 })
        {
            throw section.Error("cache_file", "must not be empty");
        }
        return new MtaStsSettings(section.GetBoolean("enabled", true), timeout, section.GetInt32("https_port", 443, 1, 65535), caFile, cacheFile);
    }
}
