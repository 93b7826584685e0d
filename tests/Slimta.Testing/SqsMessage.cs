namespace Slimta.Testing;

/// <summary>One message in an <see cref="SqsQueue"/>.</summary>
internal sealed class SqsMessage(string id, string body, string md5, DateTimeOffset sent, DateTimeOffset visibleAt)
{
    public string Id { get; } = id;

    public string Body { get; } = body;

    public string Md5 { get; } = md5;

    public DateTimeOffset Sent { get; } = sent;

    /// <summary>When the message can be received again (after its delay or visibility timeout).</summary>
    public DateTimeOffset VisibleAt { get; set; } = visibleAt;

    /// <summary>The receipt handle of the latest receive, or null when never received.</summary>
    public string? ReceiptHandle { get; set; }

    /// <summary>When the latest receive happened (SQS limits hiding to 12 hours after it).</summary>
    public DateTimeOffset ReceivedAt { get; set; }

    public int ReceiveCount { get; set; }

    public DateTimeOffset FirstReceivedAt { get; set; }
}
