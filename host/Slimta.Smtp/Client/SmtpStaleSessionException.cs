using Slimta.Abstractions.Relaying;

namespace Slimta.Smtp.Client;

/// <summary>
/// A reused session failed the RSET that opens its next transaction (the server dropped it while
/// it was idle, or answered something other than 2xx). Nothing of the transaction was sent beyond
/// the commands pipelined behind the RSET, so no message was handed over and the caller may send
/// it again at once on another session. The session is broken afterwards.
/// </summary>
public sealed class SmtpStaleSessionException : IOException
{
    /// <summary>The RSET was answered, but not with 2xx.</summary>
    public SmtpStaleSessionException(Reply reply)
        : base("the reused session refused RSET: " + reply)
    {
        Reply = reply;
    }

    /// <summary>The session failed before the RSET was answered.</summary>
    public SmtpStaleSessionException(Exception inner)
        : base("the reused session failed before RSET was answered: " + inner.Message, inner)
    {
    }

    /// <summary>The RSET reply, when there was one.</summary>
    public Reply? Reply { get; }
}
