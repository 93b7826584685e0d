using Slimta.Host.Logging;
using Slimta.Testing;

namespace Slimta.Host.Tests.Logging;

public sealed class LogOutputTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("slimta-log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reopen_AfterRotation_LinesBeforeGoToTheOldFileAndAfterToTheNew()
    {
        var path = Path.Combine(_dir, "slimta.log");
        var rotated = path + ".1";
        File.WriteAllText(path, "kept\n");
        using (var output = LogOutput.File(path))
        {
            output.Write("one");
            // logrotate's move: the open file keeps its writes; Reopen is queued after "one".
            File.Move(path, rotated);
            output.Write("two");
            output.Reopen();
            output.Write("three");
        }
        Assert.Equal(["kept", "one", "two"], File.ReadAllLines(rotated));
        Assert.Equal(["three"], File.ReadAllLines(path));
    }

    [Fact]
    public void Dispose_ManyLines_AllWrittenInOrder()
    {
        var path = Path.Combine(_dir, "many.log");
        using (var output = LogOutput.File(path))
        {
            for (int i = 0; i < 20000; i++)
            {
                output.Write(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        var lines = File.ReadAllLines(path);
        Assert.Equal(20000, lines.Length);
        Assert.Equal("19999", lines[^1]);
        Assert.Equal(Enumerable.Range(0, 20000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines);
    }
}
