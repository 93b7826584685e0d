using System.Diagnostics;
using Slimta.Host.Cli;
using Slimta.Testing;

namespace Slimta.Host.Tests.Cli;

public sealed class PidFileTests
{
    [Fact]
    public void Create_NoFile_WritesPidAndRemovesOnDispose()
    {
        var path = Path.Combine(TestPaths.NewTempDir("slimta-pid"), "slimta.pid");
        using (var pid = PidFile.Create(path))
        {
            Assert.Equal($"{Environment.ProcessId}\n", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Create_LiveProcessHoldsIt_Refused()
    {
        var path = Path.Combine(TestPaths.NewTempDir("slimta-pid"), "slimta.pid");
        using var sleeper = Process.Start("sleep", "30")!;
        try
        {
            File.WriteAllText(path, $"{sleeper.Id}\n");
            var e = Assert.Throws<IOException>(() => PidFile.Create(path));
            Assert.Contains($"already running with pid {sleeper.Id}", e.Message);
            Assert.Equal($"{sleeper.Id}\n", File.ReadAllText(path));
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public void Create_StaleOrGarbage_Replaced()
    {
        var path = Path.Combine(TestPaths.NewTempDir("slimta-pid"), "slimta.pid");
        foreach (var stale in new[] { "999999\n", "not a pid" })
        {
            File.WriteAllText(path, stale);
            using var pid = PidFile.Create(path);
            Assert.Equal($"{Environment.ProcessId}\n", File.ReadAllText(path));
        }
    }

    [Fact]
    public void Dispose_FileTakenOverByAnother_LeftAlone()
    {
        var path = Path.Combine(TestPaths.NewTempDir("slimta-pid"), "slimta.pid");
        var pid = PidFile.Create(path);
        File.WriteAllText(path, "1\n");
        pid.Dispose();
        Assert.True(File.Exists(path));
    }
}
