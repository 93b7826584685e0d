namespace Slimta.Host.Queueing;

/// <summary>A queue admin command that cannot be done (no such message, an attempt is running, …); the message is for the operator.</summary>
public sealed class QueueAdminException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QueueAdminException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public QueueAdminException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
