namespace Slimta.Testing;

/// <summary>
/// An SQS error as <see cref="SqsServer"/> answers it in the AWS JSON 1.0 protocol: HTTP 400 with
/// <c>{"__type": "com.amazonaws.sqs#Code", "message": …}</c> and the query-compatible code in the
/// <c>x-amzn-query-error</c> header (<c>AWS.SimpleQueueService.NonExistentQueue;Sender</c>), as AWS does.
/// </summary>
public sealed class SqsError(string code, string queryCode, string message, int status = 400) : Exception(message)
{
    /// <summary>The JSON error code (after <c>#</c> in <c>__type</c>).</summary>
    public string Code { get; } = code;

    /// <summary>The query protocol's error code (for the <c>x-amzn-query-error</c> header).</summary>
    public string QueryCode { get; } = queryCode;

    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>InvalidParameterValue for <paramref name="parameter"/>.</summary>
    public static SqsError InvalidParameter(string parameter, string reason) =>
        new("InvalidParameterValue", "InvalidParameterValue", $"Value for parameter {parameter} is invalid. Reason: {reason}");
}
