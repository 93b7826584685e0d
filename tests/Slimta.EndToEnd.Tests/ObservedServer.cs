using System.Net;
using Slimta.Host.Configuration;
using Slimta.Host.Edge;
using Slimta.Host.Logging;
using Slimta.Host.Server;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// The whole server in-process, like <see cref="ServerHarness"/>, but logging the way the
/// executable does: <c>process.slimta.logging</c> of the config builds the loggers (format,
/// level, target file), so tests read the real log lines.
/// </summary>
internal sealed class ObservedServer : IAsyncDisposable
{
    private readonly SlimtaLoggerFactory _loggers;

    private ObservedServer(SlimtaServer server, SlimtaLoggerFactory loggers, string directory, string? logPath)
    {
        Server = server;
        _loggers = loggers;
        Directory = directory;
        LogPath = logPath;
    }

    public SlimtaServer Server { get; }

    public string Directory { get; }

    /// <summary>The log file (<c>logging.target</c>), or null when the log goes to stdout/stderr.</summary>
    public string? LogPath { get; }

    /// <summary>
    /// Writes <paramref name="yaml"/> (with <c>{dir}</c> replaced by the temp directory), runs
    /// <paramref name="prepare"/> on that directory (files to find at startup), and starts it.
    /// </summary>
    public static async Task<ObservedServer> StartAsync(string yaml, Action<string>? prepare = null)
    {
        var dir = TestPaths.NewTempDir("slimta-obs");
        prepare?.Invoke(dir);
        var path = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(path, yaml.Replace("{dir}", dir, StringComparison.Ordinal));
        var config = ConfigLoader.LoadFile(path);
        var logging = config.Processes["slimta"].Logging;
        var loggers = SlimtaLogging.Create(logging, "process.slimta.logging");
        SlimtaServer? server = null;
        try
        {
            server = SlimtaServer.Build(config, new SlimtaServerOptions
            {
                PluginDirectories = [TestPaths.PluginsDir],
                Loggers = loggers,
            });
            await server.StartAsync(CancellationToken.None);
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            loggers.Dispose();
            throw;
        }
        return new ObservedServer(server, loggers, dir, logging.Target is "stdout" or "stderr" ? null : logging.Target);
    }

    public int PortOf(string edge = "inbound") =>
        ((IPEndPoint)((SmtpEdge)Server.Edges[edge]).BoundEndPoints[0]).Port;

    /// <summary>The lines written so far (the writer flushes whenever its queue runs empty).</summary>
    public IReadOnlyList<string> LogLines()
    {
        if (LogPath is null || !File.Exists(LogPath))
        {
            return [];
        }
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }
        return lines;
    }

    /// <summary>Polls the log until <paramref name="done"/> holds (or fails the test after <paramref name="timeout"/>).</summary>
    public async Task<IReadOnlyList<string>> WaitForLogAsync(Func<IReadOnlyList<string>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var lines = LogLines();
            if (done(lines))
            {
                return lines;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("the expected log lines did not appear; the log:\n" + string.Join("\n", lines));
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Stops the server and flushes and closes the log (the file stays until disposal of the directory).</summary>
    public async Task StopAsync()
    {
        await Server.DisposeAsync();
        _loggers.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
