using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

/// <summary>The outcome of one mail transaction (MAIL, RCPT…, DATA, message).</summary>
public sealed class SmtpTransactionResult
{
    /// <summary>Creates a result.</summary>
    public SmtpTransactionResult(Reply? mailReply, IReadOnlyList<Reply?> rcptReplies, Reply? dataReply, IReadOnlyList<Reply> recipientReplies)
    {
        MailReply = mailReply;
        RcptReplies = rcptReplies;
        DataReply = dataReply;
        RecipientReplies = recipientReplies;
    }

    /// <summary>The reply to MAIL, or null when MAIL was not sent (the client refused the message itself).</summary>
    public Reply? MailReply { get; }

    /// <summary>The reply to each RCPT in recipient order; null where RCPT was not sent.</summary>
    public IReadOnlyList<Reply?> RcptReplies { get; }

    /// <summary>The reply to DATA (354 when the message was sent), or null when DATA was not sent.</summary>
    public Reply? DataReply { get; }

    /// <summary>
    /// The reply that decides each recipient, in recipient order: the final reply after the
    /// message (for LMTP, that recipient's own), else the DATA, RCPT or MAIL reply that refused
    /// it, or one the client made up (such as 5.6.3 when 8-bit data cannot be sent).
    /// </summary>
    public IReadOnlyList<Reply> RecipientReplies { get; }
}
