using System.Globalization;
using System.Text.Json;
using Amazon.SQS;
using Amazon.SQS.Model;
using Polly;

namespace Slimta.Plugins.Aws;

/// <summary>
/// The SQS side of a shared aws queue: one notice <c>{"timestamp", "storage_id"}</c> per message.
/// A received notice is a claim: SQS hides it from every other worker for its visibility
/// timeout, which the worker renews while its attempt runs.
/// </summary>
internal sealed class SqsNotices
{
    /// <summary>SQS never keeps a received message hidden longer than this after its receipt.</summary>
    public static readonly TimeSpan MaxVisibility = TimeSpan.FromHours(12);

    /// <summary>The shortest MessageRetentionPeriod of a usable queue: a notice is renewed once a day old, plus 12 hours hidden, with room.</summary>
    public static readonly TimeSpan MinRetention = TimeSpan.FromDays(2);

    /// <summary>The longest DelaySeconds SQS accepts on SendMessage.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(15);

    private readonly IAmazonSQS _sqs;
    private readonly string _queueName;
    private readonly ResiliencePipeline _deadline;
    private readonly SemaphoreSlim _urlLock = new(1, 1);
    private string? _queueUrl;

    public SqsNotices(IAmazonSQS sqs, string queueName, ResiliencePipeline deadline)
    {
        _sqs = sqs;
        _queueName = queueName;
        _deadline = deadline;
    }

    /// <summary>The SQS client (for disposal by the owner).</summary>
    public IAmazonSQS Client => _sqs;

    private ValueTask<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        _deadline.ExecuteAsync(static async (call, ct) => await call(ct).ConfigureAwait(false), call, cancellationToken);

    /// <summary>The queue URL, looked up once (GetQueueUrl); a failed lookup is tried again on the next call.</summary>
    public async Task<string> QueueUrlAsync(CancellationToken cancellationToken)
    {
        if (_queueUrl is { } url)
        {
            return url;
        }
        await _urlLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_queueUrl is null)
            {
                var response = await RunAsync(ct => _sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = _queueName }, ct), cancellationToken).ConfigureAwait(false);
                await CheckRetentionAsync(response.QueueUrl, cancellationToken).ConfigureAwait(false);
                _queueUrl = response.QueueUrl;
            }
            return _queueUrl;
        }
        finally
        {
            _urlLock.Release();
        }
    }

    /// <summary>
    /// Refuses a queue whose MessageRetentionPeriod is shorter than <see cref="MinRetention"/>: SQS
    /// would delete the notice of a message waiting for a retry (or held) before the notice is
    /// renewed, and the message would never be delivered. Throwing here makes every write fail
    /// (the edge answers 451) instead of accepting mail it would strand; the URL is not cached, so
    /// fixing the queue's attribute takes effect at the next call. A process without
    /// sqs:GetQueueAttributes cannot check and goes on (the documented retention is then the operator's to keep).
    /// </summary>
    private async Task CheckRetentionAsync(string url, CancellationToken cancellationToken)
    {
        GetQueueAttributesResponse attributes;
        try
        {
            attributes = await RunAsync(ct => _sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = ["MessageRetentionPeriod", "RedrivePolicy"] }, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonSQSException e) when (e.StatusCode == System.Net.HttpStatusCode.Forbidden || e.ErrorCode is "AccessDenied" or "AccessDeniedException")
        {
            return;
        }
        if (attributes.Attributes is { } values
            && values.TryGetValue("MessageRetentionPeriod", out var text)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
            && TimeSpan.FromSeconds(seconds) < MinRetention)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"sqs queue {_queueName} keeps messages {seconds} s (MessageRetentionPeriod); the aws queue needs at least {(long)MinRetention.TotalSeconds} s (2 days), or waiting messages lose their notices: raise it (aws sqs set-queue-attributes)"));
        }
        // A notice is received many times while its message waits (every 12 hours for a retry days
        // away or a hold, every few seconds while its object is written): a dead-letter queue
        // would take it away after maxReceiveCount receives, and its message with it.
        if (attributes.Attributes is { } all
            && all.TryGetValue("RedrivePolicy", out var redrive)
            && !string.IsNullOrEmpty(redrive)
            && MaxReceiveCount(redrive) is { } count && count < MinReceiveCount)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"sqs queue {_queueName} has a dead-letter queue after {count} receives (RedrivePolicy maxReceiveCount); notices of waiting messages are received many times and would be moved there: remove the redrive policy or raise maxReceiveCount to at least {MinReceiveCount}"));
        }
    }

    /// <summary>The smallest maxReceiveCount of a redrive policy that the aws queue accepts (SQS's maximum is 1000).</summary>
    public const int MinReceiveCount = 1000;

    private static int? MaxReceiveCount(string redrivePolicy)
    {
        try
        {
            using var doc = JsonDocument.Parse(redrivePolicy);
            if (!doc.RootElement.TryGetProperty("maxReceiveCount", out var value))
            {
                return null;
            }
            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) ? n
                : value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n) ? n
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Sends the notice of <paramref name="id"/>, visible after <paramref name="delay"/> (at most 15 minutes); returns its SQS message id.</summary>
    public async Task<string> SendAsync(string id, DateTimeOffset nextAttempt, TimeSpan delay, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new NoticeDocument
        {
            Timestamp = nextAttempt.ToUnixTimeMilliseconds() / 1000.0,
            StorageId = id,
        }, AwsJsonContext.Default.NoticeDocument);
        var url = await QueueUrlAsync(cancellationToken).ConfigureAwait(false);
        var response = await RunAsync(ct => _sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = url,
            MessageBody = body,
            DelaySeconds = Seconds(delay, MaxDelay),
        }, ct), cancellationToken).ConfigureAwait(false);
        return response.MessageId;
    }

    /// <summary>Receives up to <paramref name="max"/> notices, each hidden from others for <paramref name="visibility"/>; long-polls up to <paramref name="wait"/>.</summary>
    public async Task<List<Message>> ReceiveAsync(int max, TimeSpan visibility, TimeSpan wait, CancellationToken cancellationToken)
    {
        var url = await QueueUrlAsync(cancellationToken).ConfigureAwait(false);
        var response = await RunAsync(ct => _sqs.ReceiveMessageAsync(new ReceiveMessageRequest
        {
            QueueUrl = url,
            MaxNumberOfMessages = max,
            VisibilityTimeout = Seconds(visibility, MaxVisibility),
            WaitTimeSeconds = Seconds(wait, TimeSpan.FromSeconds(20)),
            MessageSystemAttributeNames = ["SentTimestamp"],
        }, ct), cancellationToken).ConfigureAwait(false);
        return response.Messages ?? [];
    }

    /// <summary>
    /// Hides the notice for <paramref name="visibility"/> from now (0 shows it at once). Returns
    /// false when <paramref name="receiptHandle"/> no longer holds the notice (deleted, or its
    /// visibility ran out and another worker may have received it).
    /// </summary>
    public async Task<bool> ChangeVisibilityAsync(string receiptHandle, TimeSpan visibility, CancellationToken cancellationToken)
    {
        var url = await QueueUrlAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RunAsync(ct => _sqs.ChangeMessageVisibilityAsync(new ChangeMessageVisibilityRequest
            {
                QueueUrl = url,
                ReceiptHandle = receiptHandle,
                VisibilityTimeout = Seconds(visibility, MaxVisibility),
            }, ct), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonSQSException e) when (IsClaimLost(e))
        {
            return false;
        }
    }

    /// <summary>Deletes a notice; an outdated receipt handle is not an error.</summary>
    public async Task DeleteAsync(string receiptHandle, CancellationToken cancellationToken)
    {
        var url = await QueueUrlAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RunAsync(ct => _sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = url, ReceiptHandle = receiptHandle }, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonSQSException e) when (IsClaimLost(e))
        {
            // Already deleted, or received again by another worker (which deletes it in turn).
        }
    }

    /// <summary>The errors SQS gives for a receipt handle that no longer holds its message.</summary>
    private static bool IsClaimLost(AmazonSQSException e) =>
        e is ReceiptHandleIsInvalidException or MessageNotInflightException
        || (e.ErrorCode is { } code
            && (code.Contains("ReceiptHandleIsInvalid", StringComparison.Ordinal)
                || code.Contains("MessageNotInflight", StringComparison.Ordinal)
                || code.Contains("InvalidParameterValue", StringComparison.Ordinal)));

    /// <summary>Whole seconds for an SQS parameter, rounded up, between 0 and <paramref name="max"/>.</summary>
    public static int Seconds(TimeSpan value, TimeSpan max) =>
        (int)Math.Clamp(Math.Ceiling(value.TotalSeconds), 0, max.TotalSeconds);

    /// <summary>The notice's body, or null when it is not one this build reads.</summary>
    public static NoticeDocument? Parse(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return null;
        }
        try
        {
            var doc = JsonSerializer.Deserialize(body, AwsJsonContext.Default.NoticeDocument);
            return doc?.StorageId is { Length: > 0 } id && !id.Contains('/', StringComparison.Ordinal) ? doc : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>When SQS accepted the notice (its SentTimestamp attribute), or null when SQS did not say.</summary>
    public static DateTimeOffset? SentAt(Message notice) =>
        notice.Attributes is { } attributes && attributes.TryGetValue("SentTimestamp", out var sent)
            && long.TryParse(sent, NumberStyles.None, CultureInfo.InvariantCulture, out long ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    /// <summary>The notice's timestamp as a time.</summary>
    public static DateTimeOffset TimestampOf(NoticeDocument notice) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(notice.Timestamp * 1000.0, MidpointRounding.AwayFromZero));

    /// <summary>For logs.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"sqs queue {_queueName}");
}
