using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Slimta.Testing;

/// <summary>
/// SpamAssassin's real <c>spamd</c> (Debian packages <c>spamd</c>, <c>spamassassin</c>) on
/// 127.0.0.1 and an ephemeral port: local tests only (<c>-L</c>), no per-user config (<c>-x</c>),
/// two children. It takes a few seconds to load its rules; <see cref="StartAsync"/> returns once
/// the port listens. Disposing stops it (spamd's parent stops its children on SIGTERM).
/// </summary>
public sealed class SpamdServer : IAsyncDisposable
{
    /// <summary>The GTUBE test string: every SpamAssassin scores a message with it about 1000.</summary>
    public const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();

    private SpamdServer(Process process, int port)
    {
        _process = process;
        Port = port;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The port spamd listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>What spamd logged so far, for assertion messages.</summary>
    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts spamd and waits (up to a minute: rule loading is slow on a busy machine) until it listens.</summary>
    public static async Task<SpamdServer> StartAsync()
    {
        var exe = File.Exists("/usr/sbin/spamd") ? "/usr/sbin/spamd" : "spamd";
        Exception? last = null;
        // FreePort hands out a port that another process may grab before spamd binds it; try again then.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int port = FreePort.Next();
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-i", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-A", "127.0.0.1", "-L", "-x", "-s", "stderr", "--max-children", "2" })
            {
                psi.ArgumentList.Add(arg);
            }
            if (Environment.UserName == "root")
            {
                // spamd will not scan as root.
                psi.ArgumentList.Add("-u");
                psi.ArgumentList.Add("nobody");
            }
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("spamd did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("spamd is not installed (Debian packages 'spamd' and 'spamassassin').", e);
            }
            var server = new SpamdServer(process, port);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && !process.HasExited && !IsListening(port))
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
            if (!process.HasExited && IsListening(port))
            {
                return server;
            }
            last = new InvalidOperationException($"spamd did not listen on 127.0.0.1:{port}: {server.Output}");
            await server.DisposeAsync().ConfigureAwait(false);
        }
        throw last!;
    }

    /// <summary>Stops spamd and its children.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // SIGTERM (not Kill's SIGKILL) so the parent takes its children down with it.
                using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
                await term.WaitForExitAsync().ConfigureAwait(false);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().ConfigureAwait(false);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lock)
        {
            _output.AppendLine(line);
        }
    }

    private static bool IsListening(int port)
    {
        // 0100007F is 127.0.0.1 and state 0A is LISTEN; reading /proc avoids a probe connection.
        var needle = "0100007F:" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines("/proc/net/tcp"))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 3 && parts[1] == needle && parts[3] == "0A")
            {
                return true;
            }
        }
        return false;
    }
}
