using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Host.Cli;
using Slimta.Host.Configuration;
using Slimta.Host.Control;
using Slimta.Host.Server;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// An in-process server with its control socket (as the executable starts it), plus the real
/// <c>slimta queue</c> executable to talk to it, and a fast in-process client for polling.
/// </summary>
internal sealed class AdminServer : IAsyncDisposable
{
    private AdminServer(string configFile, SlimtaServer server, ControlServer control)
    {
        ConfigFile = configFile;
        Server = server;
        Control = control;
    }

    public string ConfigFile { get; }

    public SlimtaServer Server { get; }

    public ControlServer Control { get; }

    /// <summary>Writes the config to <paramref name="configFile"/>, builds and starts the server and its control socket.</summary>
    public static async Task<AdminServer> StartAsync(string configFile, string yaml)
    {
        await File.WriteAllTextAsync(configFile, yaml);
        var config = ConfigLoader.LoadFile(configFile);
        var server = SlimtaServer.Build(config, new SlimtaServerOptions { PluginDirectories = [TestPaths.PluginsDir], Loggers = NullLoggerFactory.Instance });
        try
        {
            await server.StartAsync(CancellationToken.None);
            var process = ProcessSettings.Resolve(config, "slimta", false);
            var path = ProcessSettings.ControlSocket(process, config.Directory, ProcessSettings.PidFile(process, config.Directory, null)).Path!;
            var control = ControlServer.Start(path, server.CreateAdminService(offline: false), QueueCommand.Hello(config, "slimta"), NullLogger.Instance);
            return new AdminServer(configFile, server, control);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The response lines of one request, through the socket.</summary>
    public async Task<List<JsonObject>> RequestAsync(string command, string? id = null)
    {
        await using var client = (await ControlClient.TryConnectAsync(Control.SocketPath, CancellationToken.None))!;
        var lines = new List<JsonObject>();
        await foreach (var line in client.SendAsync(new ControlRequest(command, null, id), CancellationToken.None))
        {
            lines.Add(line);
        }
        return lines;
    }

    /// <summary>The queued messages (the <c>message</c> lines of <c>list</c>).</summary>
    public async Task<List<JsonObject>> ListAsync() =>
        (await RequestAsync("list")).Where(l => (string?)l["type"] == "message").ToList();

    /// <summary>Polls until <paramref name="condition"/> holds for the listing.</summary>
    public async Task<List<JsonObject>> WaitListAsync(Func<List<JsonObject>, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var list = await ListAsync();
            if (condition(list))
            {
                return list;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: {string.Join("\n", list.Select(l => l.ToJsonString()))}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Control.DisposeAsync();
        await Server.DisposeAsync();
    }

    /// <summary>Runs the real executable (<c>slimta ARGS</c>) and returns its exit status and output.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(TestPaths.Bin, "slimta", "slimta.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(timeout.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Sends <paramref name="count"/> messages (one session) and returns the queue ids from the 250 replies.</summary>
    public static async Task<List<string>> SendAsync(int port, int count, string tag = "m")
    {
        var ids = new List<string>();
        await using var smtp = await RawSmtp.ConnectAsync(port);
        await smtp.ReplyAsync();
        await smtp.CommandAsync("EHLO admin.test");
        for (int i = 0; i < count; i++)
        {
            await smtp.CommandAsync("MAIL FROM:<sender@admin.test>");
            await smtp.CommandAsync($"RCPT TO:<{tag}{i}@remote.test>");
            await smtp.CommandAsync("DATA");
            var reply = await smtp.CommandAsync($"Subject: {tag} {i}\r\n\r\nbody {i}\r\n.");
            Assert.StartsWith("250 ", reply);
            ids.Add(reply.Split(' ')[2]);
        }
        return ids;
    }
}
