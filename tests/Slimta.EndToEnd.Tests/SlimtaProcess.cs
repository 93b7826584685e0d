using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>A real <c>slimta</c> or <c>slimta-worker</c> process; its output is kept (bounded) for failure messages.</summary>
internal sealed class SlimtaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SlimtaProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The last part of what the process printed.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="program"/> (<c>slimta</c> or <c>slimta-worker</c>) with <c>-c config</c> and <paramref name="extra"/>.</summary>
    public static SlimtaProcess Start(string program, string config, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(TestPaths.Bin, program, program + ".dll"));
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(config);
        foreach (var a in extra)
        {
            psi.ArgumentList.Add(a);
        }
        return new SlimtaProcess(Process.Start(psi)!);
    }

    /// <summary>Waits until something accepts connections on <paramref name="port"/>.</summary>
    public async Task WaitListeningAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"no listener on {port}: {Output}");
    }

    /// <summary>Waits for the process to exit and returns its exit code (after its output was read).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no graceful stop, claims stay behind.</summary>
    public void Kill() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            if (_output.Length > 200_000)
            {
                _output.Remove(0, 100_000);
            }
            _output.AppendLine(line);
        }
    }
}
