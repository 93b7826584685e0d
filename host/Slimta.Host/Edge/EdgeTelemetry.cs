using System.Net;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Logging;
using Slimta.Host.Metrics;

namespace Slimta.Host.Edge;

/// <summary>
/// The structured events and metrics of one SMTP edge: connections, refused sessions and refused
/// commands. The edge's name and instruments are attached by the server before the edge starts
/// (the edge factory does not know its name); until then events say <c>smtp</c> and nothing is counted.
/// </summary>
internal sealed class EdgeTelemetry(ILogger logger)
{
    public string Name { get; private set; } = "smtp";

    public EdgeMetrics? Metrics { get; private set; }

    public void Attach(string name, EdgeMetrics? metrics)
    {
        Name = name;
        Metrics = metrics;
    }

    public void ConnectionAccepted() => Metrics?.ConnectionOpened();

    public void ConnectionEnded() => Metrics?.ConnectionClosed();

    public void Opened(EndPoint? client, bool tls)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.ConnectionOpened(Name, AddressOf(client), tls);
        }
    }

    public void Closed(EndPoint? client, bool tls, TimeSpan duration)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.ConnectionClosed(Name, AddressOf(client), (long)duration.TotalMilliseconds, tls);
        }
    }

    /// <summary>A session refused before the greeting (<paramref name="reason"/>: <c>max_connections</c>, <c>dnsbl</c>).</summary>
    public void SessionRefused(EndPoint? client, string reason, Reply reply)
    {
        Metrics?.SessionRejected(reason);
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.ConnectionRefused(Name, AddressOf(client), reason, reply.ToString());
        }
    }

    /// <summary>A refused MAIL, RCPT or message (<paramref name="stage"/>: <c>mail</c>, <c>rcpt</c>, <c>data</c>).</summary>
    public void Rejected(EndPoint? client, string stage, string? address, Reply reply)
    {
        Metrics?.Rejected(stage);
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.Rejected(Name, AddressOf(client), stage, address, reply.ToString());
        }
    }

    private static string? AddressOf(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint ip => ip.Address.ToString(),
        null => null,
        _ => endPoint.ToString(),
    };
}
