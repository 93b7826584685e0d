using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Server;

/// <summary>
/// The MTA logic behind an SMTP server session: the session handles the protocol and asks the
/// handler only for decisions. Exceptions thrown by a handler are answered with 451 4.3.0.
/// </summary>
public interface ISmtpServerHandler
{
    /// <summary>
    /// Decides on MAIL after the protocol checks passed. <paramref name="transaction"/> holds the
    /// sender and MAIL parameters. Returns null to accept (250 2.1.0) or the refusal to send.
    /// </summary>
    ValueTask<Reply?> CheckSenderAsync(SmtpSessionInfo session, SmtpTransaction transaction, CancellationToken cancellationToken);

    /// <summary>Decides on one RCPT. Returns null to accept (250 2.1.5) or the refusal to send.</summary>
    ValueTask<Reply?> CheckRecipientAsync(SmtpSessionInfo session, SmtpTransaction transaction, string recipient, CancellationToken cancellationToken);

    /// <summary>Takes a complete message and returns the reply to the end of DATA.</summary>
    ValueTask<Reply> DeliverAsync(SmtpSessionInfo session, SmtpTransaction transaction, RawMessage message, CancellationToken cancellationToken);
}
