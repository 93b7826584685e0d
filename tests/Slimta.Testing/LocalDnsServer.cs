using System.Globalization;
using System.Net;

namespace Slimta.Testing;

/// <summary>
/// A real DNS server for tests: dnsmasq on 127.0.0.1 and an ephemeral port, answering only the
/// records it is given (no upstream, no /etc/hosts). Names under the <c>test</c> domain and the
/// reverse zones that have no record get NXDOMAIN; any other name gets REFUSED (a DNS error).
/// Build records with <see cref="Txt"/>, <see cref="Host"/>, <see cref="Mx"/>, <see cref="Ptr"/>.
/// </summary>
public sealed class LocalDnsServer : IAsyncDisposable
{
    private readonly ExternalServer _server;

    private LocalDnsServer(ExternalServer server) => _server = server;

    /// <summary>The UDP/TCP port dnsmasq answers on (127.0.0.1).</summary>
    public int Port => _server.Port;

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
        var exe = File.Exists("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq";
        var server = await ExternalServer.StartAsync(exe, "dnsmasq-base", port =>
        {
            var args = new List<string>
            {
                "--no-daemon", $"--port={port.ToString(CultureInfo.InvariantCulture)}", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--no-negcache", "--conf-file=/dev/null", "--pid-file=",
                "--local=/test/", "--local=/in-addr.arpa/", "--local=/ip6.arpa/", "--log-facility=-",
            };
            if (Environment.UserName == "root")
            {
                args.Add("--user=nobody");
            }
            args.AddRange(records);
            return args;
        }, TimeSpan.FromSeconds(10), udp: true).ConfigureAwait(false);
        return new LocalDnsServer(server);
    }

    /// <summary>What dnsmasq printed (for assertion messages).</summary>
    public string Output => _server.Output;

    /// <summary>Stops dnsmasq.</summary>
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
