using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

/// <summary>
/// One mail transaction on one <see cref="SmtpClient"/>, from <see cref="SmtpClient.Prepare"/>
/// to <see cref="SmtpClient.FinishAsync"/>: the message as it will be sent, and the replies read
/// so far. Split in steps so that a transaction can be sent behind the previous message on the
/// same session (RFC 2920 §3.1); <see cref="SmtpClient.SendMessageAsync(string, IReadOnlyList{string}, ReadOnlyMemory{byte}, bool, bool, CancellationToken)"/>
/// runs every step at once.
/// </summary>
public sealed class SmtpClientTransaction
{
    internal SmtpClientTransaction(string sender, IReadOnlyList<string> recipients, ReadOnlyMemory<byte> message, bool eightBit, bool withSmtpUtf8)
    {
        Sender = sender;
        Recipients = recipients;
        Message = message;
        EightBit = eightBit;
        WithSmtpUtf8 = withSmtpUtf8;
        Decisions = new Reply?[recipients.Count];
        RcptReplies = new Reply?[recipients.Count];
    }

    private SmtpClientTransaction(SmtpTransactionResult result)
    {
        Sender = string.Empty;
        Recipients = [];
        Decisions = [];
        RcptReplies = [];
        Result = result;
    }

    internal static SmtpClientTransaction Decided(SmtpTransactionResult result) => new(result);

    /// <summary>The outcome once known: set by <see cref="SmtpClient.Prepare"/> when the client refused the message itself, else by <see cref="SmtpClient.FinishAsync"/>.</summary>
    public SmtpTransactionResult? Result { get; internal set; }

    /// <summary>
    /// True once MAIL, RCPT and DATA were answered so that the message will be sent: MAIL
    /// accepted, a recipient accepted, DATA answered 354.
    /// </summary>
    public bool WillSendMessage
    {
        get
        {
            if (Result is not null || MailReply is not { IsSuccess: true } || DataReply is not { Code: 354 })
            {
                return false;
            }
            for (int i = 0; i < Decisions.Length; i++)
            {
                if (Decisions[i] is null && RcptReplies[i] is { IsSuccess: true })
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>True once its MAIL, RCPT and DATA were written behind the previous message (<see cref="SmtpClient.FinishAsync"/>).</summary>
    public bool GroupWritten { get; internal set; }

    internal string Sender { get; }

    internal IReadOnlyList<string> Recipients { get; }

    /// <summary>The message as sent (after any 8-bit conversion).</summary>
    internal ReadOnlyMemory<byte> Message { get; }

    internal bool EightBit { get; }

    internal bool WithSmtpUtf8 { get; }

    internal bool Started { get; set; }

    /// <summary>Recipients decided so far (refused by the client itself, or by a reply); null while undecided.</summary>
    internal Reply?[] Decisions { get; }

    internal Reply?[] RcptReplies { get; }

    internal Reply? MailReply { get; set; }

    internal Reply? DataReply { get; set; }

    /// <summary>Decides the recipients MAIL or their RCPT refused; returns the indexes of the accepted ones.</summary>
    internal List<int> Accept()
    {
        var accepted = new List<int>(Decisions.Length);
        for (int i = 0; i < Decisions.Length; i++)
        {
            if (Decisions[i] is not null)
            {
                continue;
            }
            if (MailReply is not { IsSuccess: true })
            {
                Decisions[i] = SmtpClient.AsFailure(MailReply ?? new Reply(451, "4.5.0", "MAIL was not sent"));
            }
            else if (RcptReplies[i] is not { IsSuccess: true })
            {
                Decisions[i] = SmtpClient.AsFailure(RcptReplies[i] ?? new Reply(451, "4.5.0", "RCPT was not sent"));
            }
            else
            {
                accepted.Add(i);
            }
        }
        return accepted;
    }
}
