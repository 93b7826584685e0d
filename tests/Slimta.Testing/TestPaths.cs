using System.Reflection;

namespace Slimta.Testing;

/// <summary>Paths of the repository and of its build output, fixed at build time.</summary>
public static class TestPaths
{
    private static string Meta(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>The repository root (ends with a separator).</summary>
    public static string RepoRoot => Meta("RepoRoot");

    /// <summary>artifacts/bin/&lt;Configuration&gt;/ (ends with a separator).</summary>
    public static string Bin => Meta("SlimtaBin");

    /// <summary>The plugins directory the host loads (artifacts/bin/&lt;Configuration&gt;/plugins/).</summary>
    public static string PluginsDir => Meta("SlimtaPluginsDir");

    /// <summary>The directory of the test-only plugins (artifacts/bin/&lt;Configuration&gt;/testplugins/).</summary>
    public static string TestPluginsDir => Path.Combine(Bin, "testplugins");

    /// <summary>A new empty temporary directory.</summary>
    public static string NewTempDir(string prefix = "slimta-test")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
