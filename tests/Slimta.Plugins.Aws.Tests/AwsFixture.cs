using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Queueing;
using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>
/// One s3rver and one <see cref="SqsServer"/> for every test of the project (a collection
/// fixture: starting s3rver takes a second). Every storage gets its own prefix and SQS queue.
/// </summary>
public sealed class AwsFixture : IAsyncLifetime
{
    /// <summary>The bucket every test uses (each storage on its own prefix).</summary>
    public const string Bucket = "slimta-tests";

    private S3Server? _s3;
    private SqsServer? _sqs;

    public S3Server S3 => _s3!;

    public SqsServer Sqs => _sqs!;

    public async Task InitializeAsync()
    {
        _s3 = await S3Server.StartAsync();
        _sqs = SqsServer.Start();
        using var client = S3Client();
        await client.PutBucketAsync(Bucket);
    }

    public async Task DisposeAsync()
    {
        if (_sqs is not null)
        {
            await _sqs.DisposeAsync();
        }
        if (_s3 is not null)
        {
            await _s3.DisposeAsync();
        }
    }

    /// <summary>An S3 client of the emulator, for checks behind the storage's back.</summary>
    public AmazonS3Client S3Client() => new(new BasicAWSCredentials(S3Server.AccessKeyId, S3Server.SecretAccessKey), new AmazonS3Config
    {
        ServiceURL = S3.Url.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-west-2",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>A fresh prefix.</summary>
    public static string NewPrefix(string tag = "t") => tag + Guid.NewGuid().ToString("N")[..10] + "/";

    /// <summary>A shared storage on a fresh prefix and a fresh queue of <paramref name="sqs"/> (default: the fixture's).</summary>
    internal AwsSharedStorage CreateShared(TimeProvider time, string prefix, string queue, double leaseSeconds = 60, SqsServer? sqs = null) =>
        (AwsSharedStorage)Create(time, prefix, queue, leaseSeconds, sqs: sqs);

    /// <summary>A fresh SQS queue's name.</summary>
    public string NewQueue(string tag = "q")
    {
        var name = tag + Guid.NewGuid().ToString("N")[..10];
        Sqs.CreateQueue(name);
        return name;
    }

    /// <summary>The slimta.conf keys of a queue on the emulators.</summary>
    public IEnumerable<(string Key, string Value)> Keys(string prefix, string? queue, double leaseSeconds = 60, SqsServer? sqs = null)
    {
        yield return ("type", "aws");
        yield return ("access_key_id", S3Server.AccessKeyId);
        yield return ("secret_access_key", S3Server.SecretAccessKey);
        yield return ("bucket_name", Bucket);
        yield return ("s3_service_url", S3.Url.ToString());
        yield return ("prefix", prefix);
        yield return ("lease", leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("timeout", "5");
        if (queue is not null)
        {
            yield return ("queue_name", queue);
            yield return ("sqs_service_url", (sqs ?? Sqs).Url.ToString());
        }
    }

    /// <summary>A storage built through the plugin's factory.</summary>
    internal IQueueStorage Create(TimeProvider time, string prefix, string? queue, double leaseSeconds = 60, IEnumerable<(string Key, string Value)>? extra = null, SqsServer? sqs = null)
    {
        var registry = new RecordingRegistry();
        new AwsPlugin().Register(registry);
        var factory = registry.Storages["aws"];
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Keys(prefix, queue, leaseSeconds, sqs).Concat(extra ?? []))
        {
            entries[key] = value; // extra keys replace the defaults
        }
        var options = new ComponentOptions(
            new ConfigMap("queue.q", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("queue.q." + e.Key, e.Value)))),
            new HashSet<string>(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry" });
        factory.Validate(options);
        var context = new ComponentContext(time, NullLoggerFactory.Instance, "mx", "mx.example.com", Path.GetTempPath());
        return factory.Create(options, context);
    }
}
