using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Metrics;

/// <summary>One queue's instruments with the <c>queue</c> tag prepared once: no allocation per message.</summary>
public sealed class QueueMetrics
{
    private readonly SlimtaMetrics _metrics;
    private readonly KeyValuePair<string, object?> _connect;
    private readonly KeyValuePair<string, object?> _transient;
    private readonly KeyValuePair<string, object?> _permanent;

    internal QueueMetrics(SlimtaMetrics metrics, string queue)
    {
        _metrics = metrics;
        Tag = new("queue", queue);
        _connect = new("class", "connect");
        _transient = new("class", "transient");
        _permanent = new("class", "permanent");
    }

    internal void PublishZeros()
    {
        _metrics.Accepted.Add(0, Tag);
        _metrics.Delivered.Add(0, Tag);
        _metrics.Deferred.Add(0, Tag);
        _metrics.Bounced.Add(0, Tag);
    }

    internal KeyValuePair<string, object?> Tag { get; }

    /// <summary>Messages stored.</summary>
    public void Accepted(int count) => _metrics.Accepted.Add(count, Tag);

    /// <summary>One recipient delivered; <paramref name="latency"/> is since the edge accepted it, when known.</summary>
    public void Delivered(TimeSpan? latency)
    {
        _metrics.Delivered.Add(1, Tag);
        if (latency is { } l)
        {
            _metrics.DeliveryDuration.Record(Math.Max(0, l.TotalSeconds), Tag);
        }
    }

    /// <summary>Recipients deferred.</summary>
    public void Deferred(int count) => _metrics.Deferred.Add(count, Tag);

    /// <summary>Recipients failed permanently.</summary>
    public void Bounced(int count) => _metrics.Bounced.Add(count, Tag);

    /// <summary>One attempt with an error of <paramref name="errorClass"/>.</summary>
    public void RelayError(RelayErrorClass errorClass) => _metrics.RelayErrors.Add(1, Tag, errorClass switch
    {
        RelayErrorClass.Connect => _connect,
        RelayErrorClass.Transient => _transient,
        _ => _permanent,
    });

    /// <summary>
    /// The class of a failed recipient's reply: RFC 3463 X.4.x ("network and routing": no answer
    /// from the host, bad connection, DNS failure; what the relays report when no SMTP session
    /// could be had) is <see cref="RelayErrorClass.Connect"/>; else 4xx transient, 5xx permanent.
    /// </summary>
    public static RelayErrorClass Classify(Reply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.EnhancedStatus is { Length: > 2 } status && status[1] == '.' && status[2] == '4')
        {
            return RelayErrorClass.Connect;
        }
        return reply.IsPermanent ? RelayErrorClass.Permanent : RelayErrorClass.Transient;
    }
}
