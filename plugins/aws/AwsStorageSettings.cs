namespace Slimta.Plugins.Aws;

/// <summary>The resolved keys of one aws queue (docs/configuration.md, "aws queue").</summary>
/// <param name="Name">The queue's key path (<c>queue.inbound</c>) for logs.</param>
/// <param name="AccessKeyId">Access key id, or null for the SDK's default credential chain.</param>
/// <param name="SecretAccessKey">Secret access key (with <paramref name="AccessKeyId"/>). Never logged.</param>
/// <param name="BucketName">The S3 bucket holding message objects.</param>
/// <param name="QueueName">The SQS queue of notices, or null for a queue local to one process.</param>
/// <param name="QueueRegion">The SQS region (signing region of the SQS client).</param>
/// <param name="BucketRegion">The S3 region (signing region of the S3 client).</param>
/// <param name="S3ServiceUrl">An S3-compatible endpoint instead of AWS's, or null.</param>
/// <param name="SqsServiceUrl">An SQS-compatible endpoint instead of AWS's, or null.</param>
/// <param name="PathStyle">Address the bucket in the path (<c>http://host/bucket/key</c>) rather than the host name.</param>
/// <param name="Prefix">Prepended to every object key this queue uses.</param>
/// <param name="Lease">The SQS visibility timeout of a claim (renewed while an attempt runs).</param>
/// <param name="Timeout">The limit of one HTTP request to S3 or SQS.</param>
/// <param name="Retries">How often the SDK retries a failed request (throttling, 5xx, network errors).</param>
internal sealed record AwsStorageSettings(
    string Name,
    string? AccessKeyId,
    string? SecretAccessKey,
    string BucketName,
    string? QueueName,
    string QueueRegion,
    string BucketRegion,
    Uri? S3ServiceUrl,
    Uri? SqsServiceUrl,
    bool PathStyle,
    string Prefix,
    TimeSpan Lease,
    TimeSpan Timeout,
    int Retries)
{
    /// <summary>For logs and exceptions: never the secret (a record's generated ToString prints every property).</summary>
    public override string ToString() =>
        $"aws queue {Name} (bucket {BucketName}, prefix '{Prefix}', sqs queue {QueueName ?? "(none)"}, access key {AccessKeyId ?? "(default chain)"})";
}
