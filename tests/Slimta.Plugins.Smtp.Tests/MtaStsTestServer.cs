using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>
/// A CA made at test time with server certificates for any names, and a small HTTPS server on
/// 127.0.0.1 that serves one MTA-STS policy file (RFC 8461 §3.2) with a certificate of that CA.
/// </summary>
internal sealed class MtaStsTestServer : IAsyncDisposable
{
    private static readonly Lazy<(X509Certificate2 Cert, ECDsa Key)> CaPair = new(CreateCa);
    private readonly TcpListener _listener;
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _requests;

    private MtaStsTestServer(string host, Func<string> policy)
    {
        _certificate = ServerCertificate(host);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Policy = policy;
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The policy file served (read on every request, so a test may change it).</summary>
    public Func<string> Policy { get; set; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The Content-Type of the policy answer.</summary>
    public string ContentType { get; set; } = "text/plain";

    /// <summary>Requests answered so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The request paths and Host headers seen.</summary>
    public List<string> Seen { get; } = [];

    public static X509Certificate2 Ca => CaPair.Value.Cert;

    /// <summary>Writes the CA as PEM to a new temporary file.</summary>
    public static string WriteCaPem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"slimta-sts-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, Ca.ExportCertificatePem());
        return path;
    }

    /// <summary>Starts serving <c>https://&lt;host&gt;/.well-known/mta-sts.txt</c>.</summary>
    public static MtaStsTestServer Start(string host, string policy) => new(host, () => policy);

    /// <summary>A certificate for <paramref name="dnsName"/> issued by the test CA, with its private key.</summary>
    public static X509Certificate2 ServerCertificate(string dnsName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        var now = DateTimeOffset.UtcNow;
        using var signed = request.Create(Ca.SubjectName, X509SignatureGenerator.CreateForECDsa(CaPair.Value.Key), now.AddDays(-1), now.AddDays(29), serial);
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        _stop.Dispose();
        _certificate.Dispose();
    }

    private static (X509Certificate2, ECDsa) CreateCa()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Slimta MTA-STS Test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return (request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30)), key);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                await using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    int n = await tls.ReadAsync(buffer, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                var lines = request.ToString().Split("\r\n");
                var host = lines.FirstOrDefault(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))?[5..].Trim();
                lock (Seen)
                {
                    Seen.Add(lines[0].Split(' ')[1] + " " + host);
                }
                bool found = lines[0].StartsWith("GET /.well-known/mta-sts.txt ", StringComparison.Ordinal);
                var body = Encoding.UTF8.GetBytes(found ? Policy() : "not found");
                var head = $"HTTP/1.1 {(found ? "200 OK" : "404 Not Found")}\r\nContent-Type: {ContentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await tls.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
                await tls.WriteAsync(body, _stop.Token);
                Interlocked.Increment(ref _requests);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
                // A client that rejects the certificate or goes away.
            }
        }
    }
}
