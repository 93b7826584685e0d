using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Slimta.Testing;

/// <summary>
/// A real DNS server for MX tests: <c>dnsmasq</c> (Debian package <c>dnsmasq-base</c>) on
/// 127.0.0.1 and an ephemeral port, answering only from the records it is given (no upstream, no
/// /etc/hosts). Every name under <c>test</c> that has no record answers NXDOMAIN. Records are
/// dnsmasq switches, built with <see cref="Mx"/>, <see cref="Host"/> and <see cref="NullMx"/>.
/// Disposing stops the process.
/// </summary>
public sealed class DnsServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();
    private readonly Task _pump;

    private DnsServer(Process process, int port)
    {
        _process = process;
        Port = port;
        _pump = PumpAsync();
    }

    /// <summary>The UDP and TCP port dnsmasq answers on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, as the mx relay's <c>dns.servers</c> takes it.</summary>
    public string EndPoint => $"127.0.0.1:{Port}";

    /// <summary>What dnsmasq printed (for assertion messages).</summary>
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

    /// <summary>An MX record: <paramref name="domain"/> is served by <paramref name="exchange"/> at <paramref name="preference"/>.</summary>
    public static string Mx(string domain, string exchange, int preference) =>
        string.Create(CultureInfo.InvariantCulture, $"--mx-host={domain},{exchange},{preference}");

    /// <summary>A/AAAA records (and the matching PTR) for <paramref name="name"/>.</summary>
    public static string Host(string name, params string[] addresses) => $"--host-record={name},{string.Join(',', addresses)}";

    /// <summary>A null MX (RFC 7505): preference 0, exchange "." — written as raw RDATA since dnsmasq has no switch for it.</summary>
    public static string NullMx(string domain) => $"--dns-rr={domain},15,000000";

    /// <summary>A name whose queries are forwarded to a server that never answers (the client times out).</summary>
    public static string Unanswered(string domain) => $"--server=/{domain}/127.0.0.1#9";

    /// <summary>Starts dnsmasq with these records; every name under <c>test</c> without a record is NXDOMAIN.</summary>
    public static async Task<DnsServer> StartAsync(params string[] records)
    {
        Exception? last = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int port = FreePort.Next();
            var psi = new ProcessStartInfo(File.Exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                $"--port={port}", "--no-daemon", "--conf-file=/dev/null", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-poll", "--local=/test/",
                "--pid-file=", "--log-facility=-",
            })
            {
                psi.ArgumentList.Add(arg);
            }
            if (Environment.UserName == "root")
            {
                // Do not drop to 'nobody' (whose home and files may not exist in a test container).
                psi.ArgumentList.Add("--user=root");
            }
            foreach (var record in records)
            {
                psi.ArgumentList.Add(record);
            }
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("dnsmasq did not start");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("dnsmasq is not installed (Debian package 'dnsmasq-base').", e);
            }
            var server = new DnsServer(process, port);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline && !process.HasExited && !IsListening(port))
            {
                await Task.Delay(20).ConfigureAwait(false);
            }
            if (!process.HasExited && IsListening(port))
            {
                return server;
            }
            await server.DisposeAsync().ConfigureAwait(false);
            last = new InvalidOperationException($"dnsmasq did not listen on 127.0.0.1:{port}: {server.Output}");
        }
        throw last!;
    }

    /// <summary>Stops dnsmasq.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
            await _process.WaitForExitAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(false);
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

    private static bool IsListening(int port)
    {
        // /proc/net/udp lists "local_address ..."; 0100007F is 127.0.0.1 (state 07 = unconnected).
        var needle = "0100007F:" + port.ToString("X4", CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/net/udp").Any(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 1 } parts && parts[1] == needle);
    }

    private async Task PumpAsync()
    {
        await Task.WhenAll(PumpAsync(_process.StandardOutput), PumpAsync(_process.StandardError)).ConfigureAwait(false);
    }

    private async Task PumpAsync(StreamReader reader)
    {
        var buffer = new char[1024];
        while (true)
        {
            int n = await reader.ReadAsync(buffer).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }
            lock (_lock)
            {
                _output.Append(buffer, 0, n);
            }
        }
    }
}
