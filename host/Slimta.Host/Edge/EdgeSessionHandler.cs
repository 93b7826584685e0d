using System.Net;
using Microsoft.Extensions.Logging;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Server;

namespace Slimta.Host.Edge;

/// <summary>The MTA side of an SMTP edge session: address rules, then the queue.</summary>
internal sealed class EdgeSessionHandler : ISmtpServerHandler
{
    private static readonly Reply QueueFailed = new(451, "4.3.0", "Local error in processing, try again later");

    private readonly SmtpEdgeOptions _options;
    private readonly IQueue _queue;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EdgeChecks _checks;
    private readonly EdgeTelemetry _telemetry;

    public EdgeSessionHandler(SmtpEdgeOptions options, IQueue queue, TimeProvider time, ILogger logger, EdgeChecks checks, EdgeTelemetry telemetry)
    {
        _telemetry = telemetry;
        _options = options;
        _checks = checks;
        _queue = queue;
        _time = time;
        _logger = logger;
    }

    // Address rules, lookups and SPF live in EdgeChecks (550 5.7.1 when not allowed); every
    // refusal is one 'rejected' event and counts in slimta.smtp.rejections.
    public async ValueTask<Reply?> CheckSenderAsync(SmtpSessionInfo session, SmtpTransaction transaction, CancellationToken cancellationToken)
    {
        var refused = await _checks.CheckSenderAsync(session, transaction.Sender, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            _telemetry.Rejected(session.RemoteEndPoint, "mail", transaction.Sender, refused);
        }
        return refused;
    }

    public async ValueTask<Reply?> CheckRecipientAsync(SmtpSessionInfo session, SmtpTransaction transaction, string recipient, CancellationToken cancellationToken)
    {
        var refused = await _checks.CheckRecipientAsync(recipient, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            _telemetry.Rejected(session.RemoteEndPoint, "rcpt", recipient, refused);
        }
        return refused;
    }

    public async ValueTask<Reply> DeliverAsync(SmtpSessionInfo session, SmtpTransaction transaction, RawMessage message, CancellationToken cancellationToken)
    {
        var remote = session.RemoteEndPoint as IPEndPoint;
        if (await _checks.CheckMessageAsync(message.Bytes, remote, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            _telemetry.Rejected(session.RemoteEndPoint, "data", transaction.Sender, refused);
            return refused;
        }
        var reverseDns = await _checks.ReverseDnsAsync(session).ConfigureAwait(false);
        var envelope = new Envelope(transaction.Sender, transaction.Recipients, message)
        {
            Client = new ClientInfo(remote?.Address, remote?.Port ?? 0, reverseDns, session.EhloName, session.Protocol, session.AuthenticatedUser),
            ReceivedAt = _time.GetUtcNow(),
            SmtpUtf8 = transaction.SmtpUtf8,
            BodyType = transaction.BodyType,
        };
        IReadOnlyList<QueueResult> results;
        try
        {
            results = await _queue.EnqueueAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogError(ex, "Queueing a message from {Client} failed", remote?.Address);
            return QueueFailed;
        }
        return ReplyFor(results, envelope, remote);
    }

    private Reply ReplyFor(IReadOnlyList<QueueResult> results, Envelope envelope, IPEndPoint? remote)
    {
        if (results.Count == 0)
        {
            _logger.LogError("The queue returned no result for a message from {Client}", remote?.Address);
            return QueueFailed;
        }
        foreach (var result in results)
        {
            if (!result.IsAccepted)
            {
                _logger.LogWarning("Message from {Client} not accepted by the queue: {Reply}", remote?.Address, result.Reply?.ToString() ?? "no reply");
                return result.Reply ?? QueueFailed;
            }
        }
        var first = results[0];
        // The queue logs the 'accepted' event; this line adds the EHLO name at debug level.
        // Checked first: the call's argument array and boxed counts cost an allocation per message
        // even when debug is not logged.
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            foreach (var result in results)
            {
                _logger.LogDebug("Handed over message {QueueId} from {Client} ({EhloName}): sender <{Sender}>, {RecipientCount} recipient(s), {Size} bytes",
                    result.Id, remote?.Address, envelope.Client.EhloName, result.Envelope.Sender, result.Envelope.Recipients.Count, result.Envelope.Message.Length);
            }
        }
        // A proxy queue hands back the next hop's reply: the client sees what really happened.
        return first.Reply ?? new Reply(250, "2.6.0", $"{first.Id} Message accepted");
    }
}
