using System.Diagnostics;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// The project's black-box checker, ../shared/conformance/smtpcheck.py (found beside the
/// repository, or beside a folder holding it such as a git worktree under /work/wt/NAME): its
/// recording sink and its check runs.
/// </summary>
internal static class SharedConformance
{
    public static string Checker { get; } = Find();

    /// <summary>The shared cases file beside the checker.</summary>
    public static string SharedCases => Path.Combine(Path.GetDirectoryName(Checker)!, "cases.py");

    /// <summary>Starts the recording sink on an ephemeral port and waits until it listens; kill the process when done.</summary>
    public static async Task<(Process Sink, int Port)> StartSinkAsync(string directory)
    {
        Assert.True(File.Exists(Checker), $"the conformance checker is missing at {Checker} (shared/ must sit beside the repository)");
        int port = FreePort.Next();
        var sink = Start("sink", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", directory);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var c = new System.Net.Sockets.TcpClient();
                await c.ConnectAsync("127.0.0.1", port);
                return (sink, port);
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Runs <c>check</c> and returns its output; asserts exit status 0 and "N passed, 0 failed".</summary>
    public static async Task<string> CheckAsync(string server, string sinkDir, string? profile = null, params string[] cases)
    {
        var args = new List<string> { "check", "--server", server, "--sink-dir", sinkDir };
        if (profile is not null)
        {
            args.AddRange(["--profile", profile]);
        }
        if (cases.Length > 0)
        {
            args.Add("--cases");
            args.AddRange(cases);
        }
        using var check = Start([.. args]);
        var output = await check.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await check.WaitForExitAsync(timeout.Token);
        Assert.True(check.ExitCode == 0 && output.Contains(" passed, 0 failed", StringComparison.Ordinal), $"profile {profile ?? "plain"}:\n{output}");
        return output;
    }

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = false };
        psi.ArgumentList.Add(Checker);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

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
