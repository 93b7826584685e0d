namespace Slimta.Host.Metrics;

/// <summary>One edge's instruments with the <c>edge</c> tag prepared once.</summary>
public sealed class EdgeMetrics
{
    private readonly SlimtaMetrics _metrics;

    internal EdgeMetrics(SlimtaMetrics metrics, string edge)
    {
        _metrics = metrics;
        Name = edge;
        Tag = new("edge", edge);
    }

    internal void PublishZeros()
    {
        _metrics.Connections.Add(0, Tag);
        _metrics.ConnectionsActive.Add(0, Tag);
    }

    /// <summary>The edge's name in slimta.conf.</summary>
    public string Name { get; }

    internal KeyValuePair<string, object?> Tag { get; }

    /// <summary>A connection was accepted.</summary>
    public void ConnectionOpened()
    {
        _metrics.Connections.Add(1, Tag);
        _metrics.ConnectionsActive.Add(1, Tag);
    }

    /// <summary>A connection ended.</summary>
    public void ConnectionClosed() => _metrics.ConnectionsActive.Add(-1, Tag);

    /// <summary>A session was refused before the greeting; <paramref name="reason"/> is <c>max_connections</c> or <c>dnsbl</c>.</summary>
    public void SessionRejected(string reason) => _metrics.SessionsRejected.Add(1, Tag, new("reason", reason));

    /// <summary>A command was refused by the rules; <paramref name="stage"/> is <c>mail</c>, <c>rcpt</c> or <c>data</c>.</summary>
    public void Rejected(string stage) => _metrics.Rejections.Add(1, Tag, new("stage", stage));
}
