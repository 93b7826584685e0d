using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>
/// The whole server over one aws queue: an SMTP edge that only stores, workers that deliver to
/// smtp-sink, and s3rver plus <see cref="SqsServer"/> of their own (these tests stop them).
/// </summary>
[Collection(AwsCollection.Name)]
public sealed class AwsWorkerTests
{
    [Fact]
    public async Task EdgeAndTwoWorkers_1000Messages_EachDeliveredOnce()
    {
        await using var s3 = await S3Server.StartAsync();
        await using var sqs = SqsServer.Start();
        await using var sink = await SmtpSink.StartAsync();
        await using var cluster = await AwsCluster.StartAsync(s3, sqs, sink.Port, leaseSeconds: 10, inProcessWorkers: 2);

        await cluster.SendAsync(0, 1000, 8, TimeSpan.FromSeconds(60));
        var arrivals = await AwsCluster.WaitForAllAsync(sink, 1000, TimeSpan.FromSeconds(60));
        await Task.Delay(500); // a duplicate would arrive now

        arrivals = AwsCluster.Arrivals(sink);
        Assert.True(arrivals.Count == 1000, $"{arrivals.Count} of 1000 arrived");
        Assert.True(arrivals.Values.All(c => c == 1), "duplicates: " + string.Join(",", arrivals.Where(a => a.Value > 1).Select(a => a.Key)));
    }

    [Fact]
    public async Task WorkerKilledMidDelivery_ClaimsTakenOverAfterVisibilityTimeout_NothingLost()
    {
        // smtp-sink answers each DATA after 1 s, so a worker holds several claims at once: killing
        // it surely strands some, which only a take-over after the 2 s visibility timeout delivers.
        await using var s3 = await S3Server.StartAsync();
        await using var sqs = SqsServer.Start();
        await using var sink = await SmtpSink.StartAsync("-w", "1");
        await using var cluster = await AwsCluster.StartAsync(s3, sqs, sink.Port, leaseSeconds: 2, inProcessWorkers: 0);
        var doomed = cluster.StartWorkerProcess();
        cluster.StartWorkerProcess();

        await cluster.SendAsync(0, 60, 8, TimeSpan.FromSeconds(30));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (AwsCluster.Arrivals(sink).Count < 10 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        doomed.Kill();
        var arrivals = await AwsCluster.WaitForAllAsync(sink, 60, TimeSpan.FromSeconds(45));

        Assert.True(arrivals.Count == 60, $"{arrivals.Count} of 60 arrived\n{cluster.Output}");
    }

    [Fact]
    public async Task EmulatorsRestartedUnderLoad_EdgeDefers451_NothingLost()
    {
        await using var s3 = await S3Server.StartAsync();
        await using var sqs = SqsServer.Start();
        await using var sink = await SmtpSink.StartAsync();
        await using var cluster = await AwsCluster.StartAsync(s3, sqs, sink.Port, leaseSeconds: 3, inProcessWorkers: 2);
        await cluster.SendAsync(0, 100, 4, TimeSpan.FromSeconds(30));

        await s3.KillAsync();
        sqs.Stop();
        var refused = await cluster.SendOneAsync(9999);
        var sending = cluster.SendAsync(100, 200, 4, TimeSpan.FromSeconds(60));
        await Task.Delay(1500);
        await s3.StartAgainAsync();
        sqs.Start();
        int deferred = await sending;
        var arrivals = await AwsCluster.WaitForAllAsync(sink, 200, TimeSpan.FromSeconds(45));

        Assert.StartsWith("451 4.3.0", refused);
        Assert.True(deferred > 0, "no message was deferred while the emulators were down");
        Assert.True(Enumerable.Range(0, 200).All(arrivals.ContainsKey), $"{arrivals.Count(a => a.Key < 200)} of 200 arrived");
        Assert.False(arrivals.ContainsKey(9999));
    }
}
