using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;

namespace Slimta.Host.Tests.Configuration;

internal static class ConfigTestHelpers
{
    public static SlimtaConfig LoadYaml(string yaml, string? directory = null) =>
        ConfigLoader.LoadText(yaml, "yaml", "test.yaml", directory ?? Path.GetTempPath());

    public static SlimtaConfig LoadToml(string toml, string? directory = null) =>
        ConfigLoader.LoadText(toml, "toml", "test.toml", directory ?? Path.GetTempPath());

    /// <summary>Loads, expects a config error, and checks its key path and line.</summary>
    public static ConfigException ExpectError(Func<SlimtaConfig> load, string keyPath, int line)
    {
        var ex = Assert.Throws<ConfigException>(() => load());
        Assert.Equal(keyPath, ex.KeyPath);
        Assert.NotNull(ex.Location);
        Assert.Equal(line, ex.Location!.Line);
        Assert.StartsWith(keyPath + ": ", ex.Message, StringComparison.Ordinal);
        Assert.Contains($":{line})", ex.Message, StringComparison.Ordinal);
        return ex;
    }

    public static string NewEnvName() => "SLIMTA_TEST_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
}
