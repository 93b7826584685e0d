using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>Finds ../shared/conformance beside the repository, or beside a folder holding it (a git worktree under /work/wt/NAME).</summary>
internal static class SharedConformance
{
    public static string Checker { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(TestPaths.RepoRoot); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "conformance", "smtpcheck.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, "..", "shared", "conformance", "smtpcheck.py"));
    }
}
