namespace Slimta.Smtp.Server;

/// <summary>How a wait for client input ended.</summary>
internal enum WaitOutcome
{
    /// <summary>Input (or end of input) arrived.</summary>
    Ready,

    /// <summary>The command or data timeout expired.</summary>
    TimedOut,

    /// <summary>The server is shutting down and the session was idle.</summary>
    Stopping,
}
