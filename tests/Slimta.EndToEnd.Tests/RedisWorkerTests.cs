using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Slimta.Testing;

namespace Slimta.EndToEnd.Tests;

/// <summary>
/// One redis queue shared by real processes: two <c>slimta --no-relay</c> edges and two
/// <c>slimta-worker</c>s delivering to smtp-sink. Messages carry <c>X-Seq: n</c> so the sink's
/// dumps tell which arrived and how often.
/// </summary>
public sealed partial class RedisWorkerTests
{
    private static string Config(int redisPort, int edgePort, int sinkPort, string prefix) => $$$"""
        process:
          slimta: {logging: {level: warning}}
          slimta-worker: {logging: {level: warning}}
        edge:
          inbound: {type: smtp, queue: shared, listener: {interface: 127.0.0.1, port: {{{edgePort}}}}}
        queue:
          shared: {type: redis, host: 127.0.0.1, port: {{{redisPort}}}, prefix: "{{{prefix}}}", lease: 2, relay: sink, retry: {delay: "1", maximum: 50}}
        relay:
          sink: {type: static, host: 127.0.0.1, port: {{{sinkPort}}}, ehlo_as: worker.test}
        """;

    /// <summary>Two edges and two workers on one queue; the caller kills or restarts things meanwhile.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        public required SlimtaProcess[] Edges { get; init; }

        public required SlimtaProcess[] Workers { get; init; }

        public required int[] EdgePorts { get; init; }

        public async ValueTask DisposeAsync()
        {
            foreach (var p in Edges.Concat(Workers))
            {
                await p.DisposeAsync();
            }
        }

        public string Output => string.Join("\n----\n", Edges.Concat(Workers).Select(p => p.Output[Math.Max(0, p.Output.Length - 3000)..]));
    }

    private static async Task<Cluster> StartClusterAsync(int redisPort, int sinkPort)
    {
        var dir = TestPaths.NewTempDir("slimta-redis-e2e");
        var prefix = "e2e" + Guid.NewGuid().ToString("N")[..8] + ":";
        var ports = new[] { FreePort.Next(), FreePort.Next() };
        var configs = ports.Select((p, i) =>
        {
            var file = Path.Combine(dir, $"edge{i}.conf");
            File.WriteAllText(file, Config(redisPort, p, sinkPort, prefix));
            return file;
        }).ToArray();
        var edges = configs.Select(c => SlimtaProcess.Start("slimta", c, "--no-relay")).ToArray();
        // The workers read the same file as the first edge; the worker opens no listener.
        var workers = new[] { SlimtaProcess.Start("slimta-worker", configs[0]), SlimtaProcess.Start("slimta-worker", configs[1]) };
        var cluster = new Cluster { Edges = edges, Workers = workers, EdgePorts = ports };
        try
        {
            for (int i = 0; i < edges.Length; i++)
            {
                await edges[i].WaitListeningAsync(ports[i]);
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Sends messages numbered <paramref name="from"/>..<paramref name="to"/>-1 over <paramref name="connections"/> connections spread over the edges; a 4xx is retried like a real client does.</summary>
    private static async Task<int> SendAsync(int[] edgePorts, int from, int to, int connections, TimeSpan giveUp)
    {
        int next = from - 1;
        int deferrals = 0;
        var deadline = DateTime.UtcNow + giveUp;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            int n = Interlocked.Increment(ref next);
            while (n < to)
            {
                Assert.True(DateTime.UtcNow < deadline, $"message {n} not accepted in time");
                try
                {
                    await using var smtp = await RawSmtp.ConnectAsync(edgePorts[c % edgePorts.Length]);
                    Assert.StartsWith("220", await smtp.ReplyAsync());
                    await smtp.CommandAsync("EHLO client.test");
                    while (n < to)
                    {
                        await smtp.CommandAsync("MAIL FROM:<sender@client.test>");
                        await smtp.CommandAsync("RCPT TO:<rcpt@remote.test>");
                        await smtp.CommandAsync("DATA");
                        var reply = await smtp.CommandAsync($"Subject: redis {n}\r\nX-Seq: {n}\r\n\r\nmessage {n}\r\n.");
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

    /// <summary>How often each X-Seq number arrived at the sink.</summary>
    private static Dictionary<int, int> Arrivals(SmtpSink sink)
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

    private static async Task<Dictionary<int, int>> WaitForAllAsync(SmtpSink sink, int count, TimeSpan timeout)
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

    [Fact]
    public async Task TwoEdgesTwoWorkers_300Messages_EachDeliveredExactlyOnce()
    {
        await using var redis = await RestartableRedis.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        await using var cluster = await StartClusterAsync(redis.Port, sink.Port);

        await SendAsync(cluster.EdgePorts, 0, 300, 8, TimeSpan.FromSeconds(30));
        var arrivals = await WaitForAllAsync(sink, 300, TimeSpan.FromSeconds(30));
        await Task.Delay(1000); // a duplicate would arrive now

        arrivals = Arrivals(sink);
        Assert.True(arrivals.Count == 300, $"{arrivals.Count} of 300 arrived\n{cluster.Output}");
        Assert.True(arrivals.Values.All(c => c == 1), "duplicates: " + string.Join(",", arrivals.Where(a => a.Value > 1).Select(a => a.Key)));
    }

    [Fact]
    public async Task WorkerKilledMidRun_ClaimsTakenOverAfterLease_NothingLost()
    {
        // smtp-sink answers each DATA after 1 s, so a worker holds many claims at once (it claims
        // more than its 5 relay connections can carry): killing it surely strands some, which
        // only a take-over after the 2 s lease can deliver.
        await using var redis = await RestartableRedis.StartAsync();
        await using var sink = await SmtpSink.StartAsync("-w", "1");
        await using var cluster = await StartClusterAsync(redis.Port, sink.Port);

        await SendAsync(cluster.EdgePorts, 0, 60, 8, TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Arrivals(sink).Count < 10 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        cluster.Workers[0].Kill();
        var arrivals = await WaitForAllAsync(sink, 60, TimeSpan.FromSeconds(40));

        Assert.True(arrivals.Count == 60, $"{arrivals.Count} of 60 arrived\n{cluster.Output}");
    }

    [Fact]
    public async Task RedisRestartedUnderLoad_EdgeDefers451_NothingLost()
    {
        await using var redis = await RestartableRedis.StartAsync();
        await using var sink = await SmtpSink.StartAsync();
        await using var cluster = await StartClusterAsync(redis.Port, sink.Port);
        await SendAsync(cluster.EdgePorts, 0, 100, 4, TimeSpan.FromSeconds(30));

        await redis.KillAsync();
        string reply;
        await using (var smtp = await RawSmtp.ConnectAsync(cluster.EdgePorts[0]))
        {
            await smtp.ReplyAsync();
            await smtp.CommandAsync("EHLO client.test");
            await smtp.CommandAsync("MAIL FROM:<sender@client.test>");
            await smtp.CommandAsync("RCPT TO:<rcpt@remote.test>");
            await smtp.CommandAsync("DATA");
            reply = await smtp.CommandAsync("Subject: refused\r\nX-Seq: 9999\r\n\r\nwhile redis is down\r\n.");
        }
        var sending = SendAsync(cluster.EdgePorts, 100, 200, 4, TimeSpan.FromSeconds(40));
        await Task.Delay(1500);
        await redis.StartAgainAsync();
        int deferred = await sending;
        var arrivals = await WaitForAllAsync(sink, 200, TimeSpan.FromSeconds(30));

        Assert.StartsWith("451 4.3.0", reply);
        Assert.True(deferred > 0, "no message was deferred while redis was down");
        Assert.True(Enumerable.Range(0, 200).All(arrivals.ContainsKey), $"{arrivals.Count(a => a.Key < 200)} of 200 arrived\n{cluster.Output}");
        Assert.False(arrivals.ContainsKey(9999));
    }

    [Fact]
    public async Task Worker_MemoryQueue_ExitsWithConfigErrorNamingQueueType()
    {
        var dir = TestPaths.NewTempDir("slimta-redis-e2e");
        var config = Path.Combine(dir, "slimta.conf");
        await File.WriteAllTextAsync(config, """
            process: {slimta-worker: {}}
            edge:
              inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: 0}}
            queue:
              q: {type: memory, relay: r}
            relay:
              r: {type: blackhole}
            """);
        await using var worker = SlimtaProcess.Start("slimta-worker", config);

        var exited = await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exited);
        Assert.Contains("queue.q.type", worker.Output);
        Assert.Contains("memory queues cannot be shared between processes", worker.Output);
    }

    [GeneratedRegex(@"X-Seq: (\d+)")]
    private static partial Regex SeqHeader();
}
