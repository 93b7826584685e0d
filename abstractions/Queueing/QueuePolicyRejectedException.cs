using Slimta.Abstractions.Relaying;

namespace Slimta.Abstractions.Queueing;

/// <summary>
/// Thrown by an <see cref="IQueuePolicy"/> that refuses a message for good (a DMARC
/// <c>p=reject</c> failure, for example): the queue answers with <see cref="Reply"/> (a 5xx reply)
/// instead of the 451 every other policy exception gets, and the edge passes it to the client.
/// </summary>
public sealed class QueuePolicyRejectedException : Exception
{
    /// <summary>Creates the exception for <paramref name="reply"/>.</summary>
    public QueuePolicyRejectedException(Reply reply)
        : base((reply ?? throw new ArgumentNullException(nameof(reply))).ToString()) => Reply = reply;

    /// <summary>Creates the exception with a generic 550 5.7.1 reply.</summary>
    public QueuePolicyRejectedException()
        : this(new Reply(550, "5.7.1", "Message refused by policy")) { }

    /// <summary>Creates the exception with a 550 5.7.1 reply carrying <paramref name="message"/>.</summary>
    public QueuePolicyRejectedException(string message)
        : this(new Reply(550, "5.7.1", message)) { }

    /// <summary>Creates the exception with a 550 5.7.1 reply carrying <paramref name="message"/>.</summary>
    public QueuePolicyRejectedException(string message, Exception innerException)
        : base(message, innerException) => Reply = new Reply(550, "5.7.1", message);

    /// <summary>The reply the client gets.</summary>
    public Reply Reply { get; }
}
