using System.Collections.Concurrent;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Smtp.Server;

namespace Slimta.Smtp.Tests.Server;

/// <summary>A session handler that accepts everything (unless told otherwise) and records messages.</summary>
internal sealed class RecordingHandler : ISmtpServerHandler
{
    public ConcurrentQueue<(SmtpTransaction Transaction, byte[] Message)> Messages { get; } = new();

    public Func<string, Reply?> Recipient { get; set; } = _ => null;

    public Func<SmtpTransaction, RawMessage, Task<Reply>>? Deliver { get; set; }

    public ValueTask<Reply?> CheckSenderAsync(SmtpSessionInfo session, SmtpTransaction transaction, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Reply?>(transaction.Sender.StartsWith("blocked@", StringComparison.Ordinal) ? new Reply(550, "5.7.1", "no") : null);

    public ValueTask<Reply?> CheckRecipientAsync(SmtpSessionInfo session, SmtpTransaction transaction, string recipient, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Recipient(recipient));

    public async ValueTask<Reply> DeliverAsync(SmtpSessionInfo session, SmtpTransaction transaction, RawMessage message, CancellationToken cancellationToken)
    {
        Messages.Enqueue((transaction, message.Bytes.ToArray()));
        if (Deliver is not null)
        {
            return await Deliver(transaction, message);
        }
        return new Reply(250, "2.6.0", $"id{Messages.Count} Message accepted");
    }
}
