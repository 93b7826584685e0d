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

    public EdgeSessionHandler(SmtpEdgeOptions options, IQueue queue, TimeProvider time, ILogger logger, EdgeChecks checks)
    {
        _options = options;
        _checks = checks;
        _queue = queue;
        _time = time;
        _logger = logger;
    }

    // Address rules, lookups and SPF live in EdgeChecks (550 5.7.1 when not allowed).
    public ValueTask<Reply?> CheckSenderAsync(SmtpSessionInfo session, SmtpTransaction transaction, CancellationToken cancellationToken) =>
        _checks.CheckSenderAsync(session, transaction.Sender, cancellationToken);

    public ValueTask<Reply?> CheckRecipientAsync(SmtpSessionInfo session, SmtpTransaction transaction, string recipient, CancellationToken cancellationToken) =>
        _checks.CheckRecipientAsync(recipient, cancellationToken);

    public async ValueTask<Reply> DeliverAsync(SmtpSessionInfo session, SmtpTransaction transaction, RawMessage message, CancellationToken cancellationToken)
    {
        var remote = session.RemoteEndPoint as IPEndPoint;
        if (await _checks.CheckMessageAsync(message.Bytes, remote, cancellationToken).ConfigureAwait(false) is { } refused)
        {
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
        // Checked first: the call's argument array and boxed counts cost an allocation per message
        // even when information is not logged.
        if (_logger.IsEnabled(LogLevel.Information))
        {
            foreach (var result in results)
            {
                _logger.LogInformation("Accepted message {QueueId} from {Client} ({EhloName}): sender <{Sender}>, {RecipientCount} recipient(s), {Size} bytes",
                    result.Id, remote?.Address, envelope.Client.EhloName, result.Envelope.Sender, result.Envelope.Recipients.Count, result.Envelope.Message.Length);
            }
        }
        // A proxy queue hands back the next hop's reply: the client sees what really happened.
        return first.Reply ?? new Reply(250, "2.6.0", $"{first.Id} Message accepted");
    }
}
