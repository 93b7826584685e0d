using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Testing;

namespace Slimta.Plugins.Aws.Tests;

public sealed class AwsPluginTests
{
    private static readonly HashSet<string> HostKeys = new(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry" };

    private static ComponentOptions Options(params (string Key, string Value)[] entries) => new(
        new ConfigMap("queue.q", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("queue.q." + e.Key, e.Value)))),
        HostKeys);

    private static IComponentFactory<IQueueStorage> Factory()
    {
        var registry = new RecordingRegistry();
        new AwsPlugin().Register(registry);
        return registry.Storages["aws"];
    }

    private static ConfigException Invalid(params (string Key, string Value)[] entries) =>
        Assert.Throws<ConfigException>(() => Factory().Validate(Options([("type", "aws"), .. entries])));

    [Fact]
    public void Register_Always_AddsOnlyAwsStorage()
    {
        var registry = new RecordingRegistry();
        new AwsPlugin().Register(registry);
        Assert.Equal(["storage:aws"], registry.Registered);
    }

    [Fact]
    public void Assembly_Always_NamesAwsPluginAsEntryType()
    {
        var attribute = typeof(AwsPlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>();
        Assert.Equal(typeof(AwsPlugin), attribute?.EntryType);
    }

    [Fact]
    public void Validate_EveryKey_Passes()
    {
        Factory().Validate(Options(
            ("type", "aws"), ("access_key_id", "AKIDEXAMPLE"), ("secret_access_key", "secret"), ("bucket_name", "mail-queue.example"),
            ("queue_name", "mail_notices-1"), ("queue_region", "eu-west-1"), ("bucket_region", "eu-central-1"),
            ("service_url", "http://127.0.0.1:4566/"), ("s3_service_url", "https://s3.example.test/"), ("sqs_service_url", "http://127.0.0.1:9324"),
            ("path_style", "true"), ("prefix", "mx1/"), ("lease", "120"), ("timeout", "20"), ("retries", "4")));
    }

    [Fact]
    public void ToString_WithKeys_NeverShowsTheSecret()
    {
        var settings = AwsStorageFactory.Read(Options(("type", "aws"), ("bucket_name", "queue"), ("access_key_id", "AKIDEXAMPLE"), ("secret_access_key", "wJalrXUtnFEMI-secret")));

        Assert.DoesNotContain("wJalrXUtnFEMI-secret", settings.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("wJalrXUtnFEMI-secret", (settings with { Prefix = "x/" }).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OnlyBucket_SeedDefaults()
    {
        var settings = AwsStorageFactory.Read(Options(("type", "aws"), ("bucket_name", "queue")));

        Assert.Equal(("us-west-2", "us-west-2"), (settings.QueueRegion, settings.BucketRegion));
        Assert.Null(settings.QueueName);
        Assert.Null(settings.AccessKeyId);
        Assert.Null(settings.S3ServiceUrl);
        Assert.False(settings.PathStyle);
        Assert.Equal(string.Empty, settings.Prefix);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.Lease);
    }

    [Fact]
    public void Read_ServiceUrl_UsedForBothAndPathStyleOn()
    {
        var settings = AwsStorageFactory.Read(Options(("type", "aws"), ("bucket_name", "queue"), ("queue_name", "q"), ("service_url", "http://127.0.0.1:4566"), ("sqs_service_url", "http://127.0.0.1:9324")));

        Assert.Equal(new Uri("http://127.0.0.1:4566"), settings.S3ServiceUrl);
        Assert.Equal(new Uri("http://127.0.0.1:9324"), settings.SqsServiceUrl);
        Assert.True(settings.PathStyle);
    }

    [Fact]
    public void Read_EndpointSpelling_SameAsServiceUrl()
    {
        var settings = AwsStorageFactory.Read(Options(("type", "aws"), ("bucket_name", "queue"), ("queue_name", "q"), ("endpoint", "http://127.0.0.1:4566")));

        Assert.Equal(new Uri("http://127.0.0.1:4566"), settings.S3ServiceUrl);
        Assert.Equal(new Uri("http://127.0.0.1:4566"), settings.SqsServiceUrl);
    }

    [Fact]
    public void Validate_ServiceUrlAndEndpoint_ThrowsNamingEndpoint()
    {
        Assert.Equal("queue.q.endpoint", Invalid(("bucket_name", "queue"), ("service_url", "http://a/"), ("endpoint", "http://b/")).KeyPath);
    }

    [Fact]
    public void Validate_UnknownKey_ThrowsNamingKey()
    {
        var e = Invalid(("bucket_name", "queue"), ("bucket", "x"));
        Assert.Contains("queue.q.bucket", e.KeyPath);
    }

    [Fact]
    public void Validate_NoBucket_ThrowsNamingBucketName()
    {
        Assert.Contains("bucket_name", Invalid(("queue_name", "q")).Message);
    }

    [Theory]
    [InlineData("UPPER")]
    [InlineData("ab")]
    [InlineData("with_underscore")]
    public void Validate_BadBucketName_ThrowsNamingBucketName(string bucket)
    {
        Assert.Equal("queue.q.bucket_name", Invalid(("bucket_name", bucket)).KeyPath);
    }

    [Fact]
    public void Validate_AccessKeyWithoutSecret_ThrowsNamingSecret()
    {
        Assert.Equal("queue.q.secret_access_key", Invalid(("bucket_name", "queue"), ("access_key_id", "AKID")).KeyPath);
    }

    [Fact]
    public void Validate_BadQueueName_ThrowsNamingQueueName()
    {
        Assert.Equal("queue.q.queue_name", Invalid(("bucket_name", "queue"), ("queue_name", "notices.fifo")).KeyPath);
    }

    [Fact]
    public void Validate_NotHttpUrl_ThrowsNamingKey()
    {
        Assert.Equal("queue.q.s3_service_url", Invalid(("bucket_name", "queue"), ("s3_service_url", "ftp://x")).KeyPath);
    }

    [Fact]
    public void Validate_SqsUrlWithoutQueueName_ThrowsNamingSqsServiceUrl()
    {
        Assert.Equal("queue.q.sqs_service_url", Invalid(("bucket_name", "queue"), ("sqs_service_url", "http://127.0.0.1:9324")).KeyPath);
    }

    [Theory]
    [InlineData("0.5")]
    [InlineData("43200")]
    public void Validate_LeaseOutOfRange_ThrowsNamingLease(string lease)
    {
        Assert.Equal("queue.q.lease", Invalid(("bucket_name", "queue"), ("lease", lease)).KeyPath);
    }

    [Theory]
    [InlineData("queue_region", "us-west2")]
    [InlineData("queue_region", "US-WEST-2")]
    [InlineData("bucket_region", "eu_west_1")]
    public void Validate_NotAnAwsRegionWithoutServiceUrl_ThrowsNamingTheRegionKey(string key, string region)
    {
        // The SDK accepts any region name and fails only at the first call, with a DNS error for
        // a host such as sqs.us-west2.amazonaws.com: every message would be refused with 451.
        Assert.Equal("queue.q." + key, Invalid(("bucket_name", "queue"), ("queue_name", "q"), (key, region)).KeyPath);
    }

    [Fact]
    public void Validate_CustomRegionWithServiceUrl_Accepted()
    {
        // S3-compatible services (MinIO, Garage, Ceph) sign with region names of their own.
        Factory().Validate(Options(("type", "aws"), ("bucket_name", "queue"), ("queue_region", "garage"), ("service_url", "http://127.0.0.1:3900")));
    }

    [Fact]
    public void Validate_EmptyQueueName_ThrowsNamingQueueName()
    {
        Assert.Equal("queue.q.queue_name", Invalid(("bucket_name", "queue"), ("queue_name", "")).KeyPath);
    }

    [Fact]
    public async Task Create_WithAndWithoutQueueName_SharedOnlyWithQueue()
    {
        var context = new ComponentContext(TimeProvider.System, NullLoggerFactory.Instance, "mx", "mx.example.com", Path.GetTempPath());
        var local = Factory().Create(Options(("type", "aws"), ("bucket_name", "queue"), ("access_key_id", "a"), ("secret_access_key", "b")), context);
        var shared = Factory().Create(Options(("type", "aws"), ("bucket_name", "queue"), ("queue_name", "q")), context);

        Assert.IsNotAssignableFrom<ISharedQueueStorage>(local);
        Assert.Equal(TimeSpan.FromSeconds(60), Assert.IsAssignableFrom<ISharedQueueStorage>(shared).Lease);
        await ((IAsyncDisposable)local).DisposeAsync();
        await ((IAsyncDisposable)shared).DisposeAsync();
    }
}
