using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SQS;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Aws;

/// <summary>
/// Builds the aws storage: <see cref="AwsSharedStorage"/> when <c>queue_name</c> is set, else
/// <see cref="AwsStorage"/>. Creating it contacts neither S3 nor SQS (a worker may start before
/// an emulator, and a region may be briefly unreachable); every call made while a service is
/// unreachable fails, so the edge answers 451.
/// </summary>
internal sealed class AwsStorageFactory : IComponentFactory<IQueueStorage>
{
    /// <summary>The lease when the <c>lease</c> key is absent.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(60);

    /// <summary>The limit of one HTTP request when the <c>timeout</c> key is absent.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The SDK retries when the <c>retries</c> key is absent.</summary>
    public const int DefaultRetries = 2;

    /// <summary>The region when <c>queue_region</c> is absent (the seed's default).</summary>
    public const string DefaultRegion = "us-west-2";

    private static readonly string[] Keys =
    [
        "type", "access_key_id", "secret_access_key", "bucket_name", "queue_name", "queue_region", "bucket_region",
        "service_url", "endpoint", "s3_service_url", "sqs_service_url", "path_style", "prefix", "lease", "timeout", "retries",
    ];

    public void Validate(ComponentOptions options) => Read(options);

    public IQueueStorage Create(ComponentOptions options, ComponentContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var settings = Read(options);
        return Create(settings, context.Time, context.Loggers.CreateLogger("slimta.queue.aws"));
    }

    /// <summary>Builds the storage from resolved settings (tests use this directly).</summary>
    internal static IQueueStorage Create(AwsStorageSettings settings, TimeProvider time, ILogger log)
    {
        // Every call has a deadline over the SDK's own retries: the SDK's timeout limits one HTTP
        // request and its retries (standard mode: throttling, 5xx, network errors) repeat it, so
        // the whole call is bounded by about (retries + 1) requests plus the backoff between them.
        var deadline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(new TimeoutStrategyOptions { Timeout = CallDeadline(settings) })
            .Build();
        var credentials = settings.AccessKeyId is not null ? new BasicAWSCredentials(settings.AccessKeyId, settings.SecretAccessKey) : null;

        var s3Config = new AmazonS3Config
        {
            Timeout = settings.Timeout,
            MaxErrorRetry = settings.Retries,
            RetryMode = RequestRetryMode.Standard,
            ForcePathStyle = settings.PathStyle,
            // Checksums only where S3 requires them: SDK 4's default adds CRC trailers in the
            // aws-chunked encoding, which S3-compatible servers do not all accept. SigV4 still
            // signs the SHA-256 of every body.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.S3ServiceUrl is { } s3Url)
        {
            s3Config.ServiceURL = s3Url.ToString();
            s3Config.AuthenticationRegion = settings.BucketRegion;
        }
        else
        {
            s3Config.RegionEndpoint = RegionEndpoint.GetBySystemName(settings.BucketRegion);
        }
        IAmazonS3 s3 = credentials is null ? new AmazonS3Client(s3Config) : new AmazonS3Client(credentials, s3Config);
        var store = new S3MessageStore(s3, settings, deadline);
        if (settings.QueueName is null)
        {
            return new AwsStorage(store);
        }

        var sqsConfig = new AmazonSQSConfig
        {
            Timeout = settings.Timeout,
            MaxErrorRetry = settings.Retries,
            RetryMode = RequestRetryMode.Standard,
        };
        if (settings.SqsServiceUrl is { } sqsUrl)
        {
            sqsConfig.ServiceURL = sqsUrl.ToString();
            sqsConfig.AuthenticationRegion = settings.QueueRegion;
        }
        else
        {
            sqsConfig.RegionEndpoint = RegionEndpoint.GetBySystemName(settings.QueueRegion);
        }
        IAmazonSQS sqs = credentials is null ? new AmazonSQSClient(sqsConfig) : new AmazonSQSClient(credentials, sqsConfig);
        return new AwsSharedStorage(store, new SqsNotices(sqs, settings.QueueName, deadline), settings, time, log);
    }

    /// <summary>The longest one S3 or SQS call may take, its SDK retries included.</summary>
    internal static TimeSpan CallDeadline(AwsStorageSettings settings) =>
        (settings.Timeout * (settings.Retries + 1)) + TimeSpan.FromSeconds(5);

    /// <summary>Checks every key and resolves the settings; errors name the key.</summary>
    internal static AwsStorageSettings Read(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys(Keys);
        var accessKey = NonEmpty(options, "access_key_id");
        var secretKey = NonEmpty(options, "secret_access_key");
        if ((accessKey is null) != (secretKey is null))
        {
            throw options.Error(accessKey is null ? "access_key_id" : "secret_access_key",
                "access_key_id and secret_access_key go together (leave both out to use the SDK's credential chain)");
        }
        var bucket = options.GetRequiredString("bucket_name");
        if (bucket.Length is < 3 or > 63 || bucket.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')))
        {
            throw options.Error("bucket_name", "must be an S3 bucket name: 3 to 63 lower-case letters, digits, '-' or '.'");
        }
        var queueName = NonEmpty(options, "queue_name");
        if (queueName is not null && (queueName.Length > 80 || queueName.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))))
        {
            throw options.Error("queue_name", "must be an SQS queue name: up to 80 letters, digits, '-' or '_' (FIFO queues are not supported)");
        }
        var queueRegion = NonEmpty(options, "queue_region") ?? DefaultRegion;
        var bucketRegion = NonEmpty(options, "bucket_region") ?? queueRegion;
        // The spec names the override `service_url`/`endpoint`: one key, two spellings.
        if (options.Has("service_url") && options.Has("endpoint"))
        {
            throw options.Error("endpoint", "is another name for service_url: give one of them");
        }
        var common = Url(options, "service_url") ?? Url(options, "endpoint");
        var s3Url = Url(options, "s3_service_url") ?? common;
        var sqsUrl = Url(options, "sqs_service_url") ?? common;
        // Without a service URL the region names an AWS endpoint host; the SDK takes any string and
        // fails only at the first call (a DNS error: every message refused with 451), so a
        // misspelt region is a startup error. With a URL the region only signs, and S3-compatible
        // services use names of their own.
        if (s3Url is null && !IsAwsRegion(bucketRegion))
        {
            var key = options.Has("bucket_region") ? "bucket_region" : "queue_region";
            throw options.Error(key, $"'{bucketRegion}' is not an AWS region name (such as us-west-2 or eu-central-1)");
        }
        if (queueName is not null && sqsUrl is null && !IsAwsRegion(queueRegion))
        {
            throw options.Error("queue_region", $"'{queueRegion}' is not an AWS region name (such as us-west-2 or eu-central-1)");
        }
        if (queueName is null && options.Has("sqs_service_url"))
        {
            throw options.Error("sqs_service_url", "is only used with queue_name");
        }
        var prefix = options.GetString("prefix") ?? string.Empty;
        if (prefix.StartsWith('/') || prefix.Length > 512)
        {
            throw options.Error("prefix", "must not start with '/' and must be at most 512 characters");
        }
        var lease = options.GetSeconds("lease", DefaultLease);
        if (lease < TimeSpan.FromSeconds(1) || lease > TimeSpan.FromHours(11))
        {
            throw options.Error("lease", "must be between 1 second and 11 hours (SQS hides a message at most 12 hours)");
        }
        var timeout = options.GetSeconds("timeout", DefaultTimeout);
        if (timeout < TimeSpan.FromSeconds(3) || timeout > TimeSpan.FromMinutes(10))
        {
            throw options.Error("timeout", "must be between 3 seconds and 10 minutes");
        }
        int retries = options.GetInt32("retries", DefaultRetries, 0, 10);
        return new AwsStorageSettings(
            options.Path,
            accessKey,
            secretKey,
            bucket,
            queueName,
            queueRegion,
            bucketRegion,
            s3Url,
            queueName is null ? null : sqsUrl,
            options.GetBoolean("path_style", s3Url is not null),
            prefix,
            lease,
            timeout,
            retries);
    }

    /// <summary>An AWS region name: <c>us-west-2</c>, <c>us-gov-west-1</c>, <c>ap-southeast-4</c>, <c>cn-north-1</c>.</summary>
    private static bool IsAwsRegion(string region) =>
        System.Text.RegularExpressions.Regex.IsMatch(region, "^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static string? NonEmpty(ComponentOptions options, string key)
    {
        if (!options.Has(key))
        {
            return null;
        }
        var value = options.GetString(key);
        return string.IsNullOrEmpty(value) ? throw options.Error(key, "must not be empty (leave the key out instead)") : value;
    }

    private static Uri? Url(ComponentOptions options, string key)
    {
        var value = NonEmpty(options, key);
        if (value is null)
        {
            return null;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw options.Error(key, $"'{value}' is not an http:// or https:// URL");
    }
}
