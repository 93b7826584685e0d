namespace Slimta.Testing;

/// <summary>
/// The state of one queue of <see cref="SqsServer"/>, with SQS's visibility semantics: a received
/// message is hidden for its visibility timeout and comes back unless deleted; only the latest
/// receipt handle may change its visibility; hiding is limited to 12 hours after the receipt.
/// Callers hold the server's lock.
/// </summary>
internal sealed class SqsQueue(string name, string url, TimeSpan visibilityTimeout, TimeSpan delay)
{
    public static readonly TimeSpan MaxVisibility = TimeSpan.FromHours(12);

    private readonly List<SqsMessage> _messages = [];
    private readonly Dictionary<string, SqsMessage> _byHandle = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    public string Url { get; } = url;

    public TimeSpan VisibilityTimeout { get; } = visibilityTimeout;

    public TimeSpan Delay { get; } = delay;

    /// <summary>MessageRetentionPeriod (reported by GetQueueAttributes; SQS's default is 4 days).</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(4);

    /// <summary>The RedrivePolicy attribute (a dead-letter queue), reported but not acted on; null when none.</summary>
    public string? RedrivePolicy { get; init; }

    public SqsMessage Send(string body, string md5, TimeSpan? delay, DateTimeOffset now)
    {
        var message = new SqsMessage(Guid.NewGuid().ToString(), body, md5, now, now + (delay ?? Delay));
        _messages.Add(message);
        return message;
    }

    /// <summary>Up to <paramref name="max"/> visible messages, oldest first, each now hidden for <paramref name="visibility"/>.</summary>
    public List<(SqsMessage Message, string Handle)> Receive(int max, TimeSpan? visibility, DateTimeOffset now)
    {
        var result = new List<(SqsMessage, string)>();
        foreach (var m in _messages)
        {
            if (result.Count == max)
            {
                break;
            }
            if (m.VisibleAt > now)
            {
                continue;
            }
            var handle = "AQE" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=') + "/" + m.Id;
            m.ReceiptHandle = handle;
            m.ReceivedAt = now;
            m.ReceiveCount++;
            if (m.ReceiveCount == 1)
            {
                m.FirstReceivedAt = now;
            }
            m.VisibleAt = now + (visibility ?? VisibilityTimeout);
            _byHandle[handle] = m;
            result.Add((m, handle));
        }
        return result;
    }

    public void Delete(string handle)
    {
        if (!_byHandle.TryGetValue(handle, out var m))
        {
            throw new SqsError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", $"The input receipt handle \"{handle}\" is not a valid receipt handle.");
        }
        // AWS accepts an outdated handle of a message that was received again; the message is
        // deleted only with its latest handle (an old one may or may not delete it: here it does not).
        if (m.ReceiptHandle == handle)
        {
            _messages.Remove(m);
        }
    }

    public void ChangeVisibility(string handle, TimeSpan visibility, DateTimeOffset now)
    {
        if (!_byHandle.TryGetValue(handle, out var m))
        {
            throw new SqsError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", $"The input receipt handle \"{handle}\" is not a valid receipt handle.");
        }
        if (!_messages.Contains(m) || m.ReceiptHandle != handle)
        {
            throw new SqsError("InvalidParameterValue", "InvalidParameterValue", $"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.");
        }
        if (m.VisibleAt <= now)
        {
            throw new SqsError("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "Message is not in flight.");
        }
        if (now - m.ReceivedAt + visibility > MaxVisibility)
        {
            throw new SqsError("InvalidParameterValue", "InvalidParameterValue", $"Value {(int)visibility.TotalSeconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]");
        }
        m.VisibleAt = now + visibility;
    }

    public void Purge()
    {
        _messages.Clear();
        _byHandle.Clear();
    }

    /// <summary>(visible, in flight, delayed) counts, as ApproximateNumberOfMessages* report them.</summary>
    public (int Visible, int InFlight, int Delayed) Counts(DateTimeOffset now)
    {
        int visible = 0, inFlight = 0, delayed = 0;
        foreach (var m in _messages)
        {
            if (m.VisibleAt <= now)
            {
                visible++;
            }
            else if (m.ReceiptHandle is null)
            {
                delayed++;
            }
            else
            {
                inFlight++;
            }
        }
        return (visible, inFlight, delayed);
    }

    /// <summary>Every message body, for assertions.</summary>
    public List<string> Bodies() => _messages.Select(m => m.Body).ToList();
}
