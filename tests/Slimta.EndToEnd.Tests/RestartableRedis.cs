using System.Diagnostics;
using System.Globalization;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// redis-server on 127.0.0.1 and a fixed ephemeral port with an append-only file fsynced on every
/// write, so it can be killed and started again on the same port with its data (a Redis restart).
/// </summary>
internal sealed class RestartableRedis : IAsyncDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("slimta-redis");
    private Process? _process;

    public int Port { get; } = FreePort.Next();

    public static async Task<RestartableRedis> StartAsync()
    {
        var redis = new RestartableRedis();
        await redis.StartAgainAsync();
        return redis;
    }

    public async Task StartAgainAsync()
    {
        var exe = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--dir", _dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always" })
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!ProcNet.IsListening("/proc/net/tcp", Port, udp: false))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new InvalidOperationException($"redis-server did not listen on {Port}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL, like a crash; the append-only file keeps every acknowledged write.</summary>
    public async Task KillAsync()
    {
        _process!.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await KillAsync();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
