using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Host.Configuration;
using Slimta.Host.Server;
using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>The aws queue as the server loads it from slimta.conf through the real plugin loader.</summary>
public sealed class AwsServerConfigTests
{
    private static SlimtaServer Build(string yaml, bool noEdge)
    {
        var dir = TestPaths.NewTempDir("slimta-aws-config");
        var file = Path.Combine(dir, "slimta.conf");
        File.WriteAllText(file, yaml);
        var config = ConfigLoader.LoadFile(file);
        Directory.Delete(dir, recursive: true);
        return SlimtaServer.Build(config, new SlimtaServerOptions
        {
            ProcessName = noEdge ? "slimta-worker" : "slimta",
            NoEdge = noEdge,
            PluginDirectories = [TestPaths.PluginsDir],
            Loggers = NullLoggerFactory.Instance,
        });
    }

    private const string LocalQueue = """
        process:
          slimta: {}
          slimta-worker: {}
        edge:
          inbound: {type: smtp, queue: q, listener: {interface: 127.0.0.1, port: 0}}
        queue:
          q: {type: aws, bucket_name: queue, s3_service_url: "http://127.0.0.1:9/", relay: r}
        relay:
          r: {type: blackhole}
        """;

    [Fact]
    public void Build_WorkerOnAwsQueueWithoutQueueName_ConfigErrorNamingType()
    {
        var e = Assert.Throws<ConfigException>(() => Build(LocalQueue, noEdge: true));

        Assert.Equal("queue.q.type", e.KeyPath);
        Assert.Contains("aws queues cannot be shared between processes", e.Message);
    }

    [Fact]
    public async Task Build_WorkerOnAwsQueueWithQueueName_Builds()
    {
        await using var server = Build(LocalQueue.Replace("bucket_name: queue,", "bucket_name: queue, queue_name: notices, sqs_service_url: \"http://127.0.0.1:9/\",", StringComparison.Ordinal), noEdge: true);

        Assert.NotNull(server);
    }

    [Fact]
    public void Build_UnknownAwsKey_ConfigErrorNamingKey()
    {
        var e = Assert.Throws<ConfigException>(() => Build(LocalQueue.Replace("bucket_name: queue,", "bucket_name: queue, region: eu-west-1,", StringComparison.Ordinal), noEdge: false));

        Assert.Equal("queue.q.region", e.KeyPath);
    }
}
