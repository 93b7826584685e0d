using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Slimta.Testing;

/// <summary>
/// s3rver (npm, installed into tests/npm/node_modules by ./test.sh) on 127.0.0.1 and a fixed
/// ephemeral port, keeping its buckets in a temporary directory, so it can be killed and started
/// again on the same port with its data (an S3 outage). It checks SigV4 signatures with the
/// access key <see cref="AccessKeyId"/> and secret <see cref="SecretAccessKey"/>.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    /// <summary>s3rver's built-in access key id.</summary>
    public const string AccessKeyId = "S3RVER";

    /// <summary>s3rver's built-in secret key.</summary>
    public const string SecretAccessKey = "S3RVER";

    private readonly string _dir = TestPaths.NewTempDir("slimta-s3rver");
    private readonly StringBuilder _output = new();
    private Process? _process;

    private S3Server(int port)
    {
        Port = port;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>The endpoint to give the SDK as its ServiceURL (path-style addressing).</summary>
    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <summary>What s3rver printed so far.</summary>
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

    /// <summary>The s3rver script installed by ./test.sh.</summary>
    public static string Script => Path.Combine(TestPaths.RepoRoot, "tests", "npm", "node_modules", "s3rver", "bin", "s3rver.js");

    /// <summary>Starts s3rver and waits until it listens.</summary>
    public static async Task<S3Server> StartAsync()
    {
        if (!File.Exists(Script))
        {
            throw new InvalidOperationException($"s3rver is not installed ({Script}): run ./test.sh, or 'npm ci' in tests/npm.");
        }
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var server = new S3Server(FreePort.Next());
            try
            {
                await server.StartAgainAsync();
                return server;
            }
            catch (InvalidOperationException e)
            {
                last = e;
                await server.DisposeAsync();
            }
        }
        throw last!;
    }

    /// <summary>Starts s3rver (again) on the same port and directory.</summary>
    public async Task StartAgainAsync()
    {
        var node = File.Exists("/usr/bin/node") ? "/usr/bin/node" : "node";
        var psi = new ProcessStartInfo(node) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its
        // legacy provider: without it every listing longer than one page fails with a 500.
        foreach (var a in new[] { "--openssl-legacy-provider", Script, "--directory", _dir, "--address", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets" })
        {
            psi.ArgumentList.Add(a);
        }
        try
        {
            _process = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("node is not installed (Debian package 'nodejs').", e);
        }
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!ProcNet.IsListening("/proc/net/tcp", Port, udp: false))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new InvalidOperationException($"s3rver did not listen on 127.0.0.1:{Port}: {Output}");
            }
            await Task.Delay(50);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>SIGKILL, like a crash; the objects stay in the directory.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
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
