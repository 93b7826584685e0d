using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Host.Configuration;
using Slimta.Host.Edge;
using Slimta.Host.Server;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>The whole server, in-process, from a slimta.conf written to a temporary directory.</summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    private ServerHarness(SlimtaServer server, string directory)
    {
        Server = server;
        Directory = directory;
    }

    public SlimtaServer Server { get; }

    public string Directory { get; }

    /// <summary>Writes <paramref name="yaml"/> as slimta.conf, builds the server with the real plugins and starts it.</summary>
    public static async Task<ServerHarness> StartAsync(string yaml, string fileName = "slimta.conf")
    {
        var dir = TestPaths.NewTempDir("slimta-e2e");
        var server = Build(yaml, dir, fileName);
        try
        {
            await server.StartAsync(CancellationToken.None);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return new ServerHarness(server, dir);
    }

    /// <summary>Loads and builds without starting (for configuration error tests).</summary>
    public static SlimtaServer Build(string yaml, string dir, string fileName = "slimta.conf")
    {
        var path = Path.Combine(dir, fileName);
        File.WriteAllText(path, yaml);
        var config = ConfigLoader.LoadFile(path);
        return SlimtaServer.Build(config, new SlimtaServerOptions
        {
            PluginDirectories = [TestPaths.PluginsDir],
            Loggers = NullLoggerFactory.Instance,
        });
    }

    /// <summary>The port the named edge listens on (configured with port 0).</summary>
    public int PortOf(string edge = "inbound") =>
        ((IPEndPoint)((SmtpEdge)Server.Edges[edge]).BoundEndPoints[0]).Port;

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
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
