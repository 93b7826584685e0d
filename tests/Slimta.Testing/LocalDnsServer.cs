using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Slimta.Testing;

/// <summary>
/// A real DNS server for tests: dnsmasq on 127.0.0.1 and an ephemeral port, answering only the
/// records it is given (no upstream, no /etc/hosts). Names under the <c>test</c> domain and the
/// reverse zones that have no record get NXDOMAIN; any other name gets REFUSED (a DNS error).
/// Build records with <see cref="Txt"/>, <see cref="Host"/>, <see cref="Mx"/>, <see cref="Ptr"/>.
/// </summary>
public sealed class LocalDnsServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private LocalDnsServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The UDP/TCP port dnsmasq answers on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>127.0.0.1 and <see cref="Port"/>.</summary>
    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <summary>What to write in a <c>dns.servers</c> list: <c>127.0.0.1:PORT</c>.</summary>
    public string Server => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>A TXT record (one string; commas split it into several strings).</summary>
    public static string Txt(string name, string text) => $"--txt-record={name},{text}";

    /// <summary>A/AAAA records of <paramref name="name"/> (and the matching PTR records, as dnsmasq does).</summary>
    public static string Host(string name, params string[] addresses) => $"--host-record={name},{string.Join(',', addresses)}";

    /// <summary>An MX record.</summary>
    public static string Mx(string domain, string exchange, int preference) => $"--mx-host={domain},{exchange},{preference.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A null MX (RFC 7505): preference 0, exchange "." — raw RDATA, since dnsmasq has no switch for it.</summary>
    public static string NullMx(string domain) => $"--dns-rr={domain},15,000000";

    /// <summary>A name whose queries go to a server that never answers (the client times out).</summary>
    public static string Unanswered(string domain) => $"--server=/{domain}/127.0.0.1#9";

    /// <summary>A PTR record; <paramref name="name"/> is the in-addr.arpa/ip6.arpa name.</summary>
    public static string Ptr(string name, string target) => $"--ptr-record={name},{target}";

    /// <summary>Starts dnsmasq with <paramref name="records"/> (dnsmasq options, see the builders).</summary>
    public static async Task<LocalDnsServer> StartAsync(params string[] records)
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
                "--no-daemon", $"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--no-negcache", "--conf-file=/dev/null", "--pid-file=",
                "--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/", "--log-facility=-",
            })
            {
                psi.ArgumentList.Add(arg);
            }
            if (Environment.UserName == "root")
            {
                psi.ArgumentList.Add("--user=nobody");
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
            var server = new LocalDnsServer(process, port);
            _ = server.PumpAsync(process.StandardError);
            _ = server.PumpAsync(process.StandardOutput);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline && !process.HasExited && !ProcNet.IsListening("/proc/net/udp", port, udp: true))
            {
                await Task.Delay(20).ConfigureAwait(false);
            }
            if (!process.HasExited && ProcNet.IsListening("/proc/net/udp", port, udp: true))
            {
                return server;
            }
            last = new InvalidOperationException($"dnsmasq did not listen on 127.0.0.1:{port}: {server.Output}");
            await server.DisposeAsync().ConfigureAwait(false);
        }
        throw last!;
    }

    /// <summary>What dnsmasq printed (for assertion messages).</summary>
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
