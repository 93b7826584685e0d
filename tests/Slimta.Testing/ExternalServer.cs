using System.Diagnostics;
using System.Text;

namespace Slimta.Testing;

/// <summary>
/// A server program started by a test on 127.0.0.1 and an ephemeral port, stopped (killed) on
/// dispose. Used by <see cref="Spamd"/>, <see cref="RedisServer"/> and <see cref="LocalDnsServer"/>.
/// </summary>
public sealed class ExternalServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ExternalServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>What the program printed so far.</summary>
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

    /// <summary>Starts <paramref name="program"/> with the arguments <paramref name="arguments"/> gives for a port and waits until it listens.</summary>
    /// <param name="program">The executable.</param>
    /// <param name="package">The Debian package that has it (for the error message).</param>
    /// <param name="arguments">The command line for a port.</param>
    /// <param name="startup">How long the program may take to listen.</param>
    /// <param name="udp">Wait for a bound UDP socket instead of a listening TCP one.</param>
    public static async Task<ExternalServer> StartAsync(string program, string package, Func<int, IEnumerable<string>> arguments, TimeSpan startup, bool udp = false)
    {
        var table = udp ? "/proc/net/udp" : "/proc/net/tcp";
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int port = FreePort.Next();
            var psi = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in arguments(port))
            {
                psi.ArgumentList.Add(arg);
            }
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException($"{program} did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException($"{program} is not installed (Debian package '{package}').", e);
            }
            var server = new ExternalServer(process, port);
            _ = server.PumpAsync(process.StandardOutput);
            _ = server.PumpAsync(process.StandardError);
            var deadline = DateTime.UtcNow + startup;
            while (DateTime.UtcNow < deadline && !process.HasExited && !ProcNet.IsListening(table, port, udp))
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
            if (!process.HasExited && ProcNet.IsListening(table, port, udp))
            {
                return server;
            }
            last = new InvalidOperationException($"{program} did not listen on 127.0.0.1:{port}: {server.Output}");
            await server.DisposeAsync().ConfigureAwait(false);
        }
        throw last!;
    }

    /// <summary>Kills the program.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task PumpAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }
}
