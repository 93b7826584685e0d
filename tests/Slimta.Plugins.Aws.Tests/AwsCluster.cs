using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Host.Configuration;
using Slimta.Host.Edge;
using Slimta.Host.Server;
using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>
/// One aws queue (a bucket prefix and an SQS queue on the emulators) shared by an in-process edge
/// (<c>slimta --no-relay</c>) and workers (<c>slimta-worker</c>, in-process or real processes) that
/// deliver to smtp-sink. Messages carry <c>X-Seq: n</c> so the sink's dumps tell which arrived and how often.
/// </summary>
internal sealed partial class AwsCluster : IAsyncDisposable
{
    private readonly List<SlimtaServer> _servers = [];
    private readonly List<WorkerProcess> _processes = [];

    private AwsCluster(string directory, string config)
    {
        Directory = directory;
        ConfigFile = config;
    }

    public string Directory { get; }

    public string ConfigFile { get; }

    public int EdgePort { get; private set; }

    public IReadOnlyList<WorkerProcess> Processes => _processes;

    public string Output => string.Join("\n----\n", _processes.Select(p => p.Output[Math.Max(0, p.Output.Length - 3000)..]));

    public static string Config(S3Server s3, SqsServer sqs, string queue, string prefix, int sinkPort, int leaseSeconds) => $$$"""
        process:
          slimta: {logging: {level: warning}}
          slimta-worker: {logging: {level: warning}}
        edge:
          inbound: {type: smtp, queue: shared, listener: {interface: 127.0.0.1, port: 0}}
        queue:
          shared:
            type: aws
            access_key_id: {{{S3Server.AccessKeyId}}}
            secret_access_key: {{{S3Server.SecretAccessKey}}}
            bucket_name: {{{AwsFixture.Bucket}}}
            queue_name: {{{queue}}}
            s3_service_url: "{{{s3.Url}}}"
            sqs_service_url: "{{{sqs.Url}}}"
            prefix: "{{{prefix}}}"
            lease: {{{leaseSeconds}}}
            timeout: 3
            retries: 1
            relay: sink
            retry: {delay: "1", maximum: 50}
        relay:
          sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}, ehlo_as: worker.test}
        """;

    /// <summary>Creates the bucket and queue, writes the configuration and starts the edge and <paramref name="inProcessWorkers"/> workers in this process.</summary>
    public static async Task<AwsCluster> StartAsync(S3Server s3, SqsServer sqs, int sinkPort, int leaseSeconds, int inProcessWorkers)
    {
        var queue = "e2e" + Guid.NewGuid().ToString("N")[..8];
        sqs.CreateQueue(queue);
        using (var client = new Amazon.S3.AmazonS3Client(
            new Amazon.Runtime.BasicAWSCredentials(S3Server.AccessKeyId, S3Server.SecretAccessKey),
            new Amazon.S3.AmazonS3Config { ServiceURL = s3.Url.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-west-2" }))
        {
            await client.PutBucketAsync(AwsFixture.Bucket);
        }
        var dir = TestPaths.NewTempDir("slimta-aws-e2e");
        var file = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(file, Config(s3, sqs, queue, AwsFixture.NewPrefix("e2e"), sinkPort, leaseSeconds));
        var cluster = new AwsCluster(dir, file);
        try
        {
            var edge = cluster.Build(noEdge: false);
            await edge.StartAsync(CancellationToken.None);
            cluster.EdgePort = ((IPEndPoint)((SmtpEdge)edge.Edges["inbound"]).BoundEndPoints[0]).Port;
            for (int i = 0; i < inProcessWorkers; i++)
            {
                await cluster.Build(noEdge: true).StartAsync(CancellationToken.None);
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    private SlimtaServer Build(bool noEdge)
    {
        var config = ConfigLoader.LoadFile(ConfigFile);
        var server = SlimtaServer.Build(config, new SlimtaServerOptions
        {
            ProcessName = noEdge ? "slimta-worker" : "slimta",
            NoEdge = noEdge,
            NoRelay = !noEdge,
            PluginDirectories = [TestPaths.PluginsDir],
            Loggers = NullLoggerFactory.Instance,
        });
        _servers.Add(server);
        return server;
    }

    /// <summary>Starts a real <c>slimta-worker</c> process on the same configuration.</summary>
    public WorkerProcess StartWorkerProcess()
    {
        var worker = WorkerProcess.Start(ConfigFile);
        _processes.Add(worker);
        return worker;
    }

    /// <summary>
    /// Sends messages <paramref name="from"/>..<paramref name="to"/>-1 over <paramref name="connections"/>
    /// connections; a 4xx is retried like a real client does. Returns how many were deferred.
    /// </summary>
    public async Task<int> SendAsync(int from, int to, int connections, TimeSpan giveUp)
    {
        int next = from - 1;
        int deferrals = 0;
        var deadline = DateTime.UtcNow + giveUp;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            int n = Interlocked.Increment(ref next);
            while (n < to)
            {
                Assert.True(DateTime.UtcNow < deadline, $"message {n} not accepted in time");
                try
                {
                    await using var smtp = await SmtpLine.ConnectAsync(EdgePort);
                    Assert.StartsWith("220", await smtp.ReplyAsync());
                    await smtp.CommandAsync("EHLO client.test");
                    while (n < to)
                    {
                        await smtp.CommandAsync("MAIL FROM:<sender@client.test>");
                        await smtp.CommandAsync("RCPT TO:<rcpt@remote.test>");
                        await smtp.CommandAsync("DATA");
                        var reply = await smtp.CommandAsync($"Subject: aws {n}\r\nX-Seq: {n}\r\n\r\nmessage {n}\r\n.");
                        if (reply.StartsWith("250", StringComparison.Ordinal))
                        {
                            n = Interlocked.Increment(ref next);
                        }
                        else
                        {
                            Assert.StartsWith("4", reply);
                            Interlocked.Increment(ref deferrals);
                            await Task.Delay(200);
                        }
                    }
                }
                catch (Exception e) when (e is IOException or SocketException or EndOfStreamException)
                {
                    await Task.Delay(100);
                }
            }
        })));
        return deferrals;
    }

    /// <summary>Sends one message and returns the reply to its data.</summary>
    public async Task<string> SendOneAsync(int n)
    {
        await using var smtp = await SmtpLine.ConnectAsync(EdgePort);
        await smtp.ReplyAsync();
        await smtp.CommandAsync("EHLO client.test");
        await smtp.CommandAsync("MAIL FROM:<sender@client.test>");
        await smtp.CommandAsync("RCPT TO:<rcpt@remote.test>");
        await smtp.CommandAsync("DATA");
        return await smtp.CommandAsync($"Subject: aws {n}\r\nX-Seq: {n}\r\n\r\nmessage {n}\r\n.");
    }

    /// <summary>How often each X-Seq number arrived at the sink.</summary>
    public static Dictionary<int, int> Arrivals(SmtpSink sink)
    {
        var counts = new Dictionary<int, int>();
        foreach (var m in sink.Messages)
        {
            var match = SeqHeader().Match(Encoding.ASCII.GetString(m.Data));
            if (match.Success)
            {
                int n = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                counts[n] = counts.GetValueOrDefault(n) + 1;
            }
        }
        return counts;
    }

    /// <summary>Waits until <paramref name="count"/> different messages arrived (or the time is up) and returns the arrivals.</summary>
    public static async Task<Dictionary<int, int>> WaitForAllAsync(SmtpSink sink, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var arrivals = Arrivals(sink);
        while (arrivals.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            arrivals = Arrivals(sink);
        }
        return arrivals;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            await p.DisposeAsync();
        }
        foreach (var server in Enumerable.Reverse(_servers))
        {
            await server.DisposeAsync();
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    [GeneratedRegex(@"X-Seq: (\d+)")]
    private static partial Regex SeqHeader();
}
