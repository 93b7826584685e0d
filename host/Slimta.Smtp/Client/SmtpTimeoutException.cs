namespace Slimta.Smtp.Client;

/// <summary>A stage of the SMTP client session took longer than its configured timeout.</summary>
public sealed class SmtpTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public SmtpTimeoutException(SmtpStage stage, TimeSpan timeout)
        : base($"SMTP {stage.ToString().ToLowerInvariant()} timed out after {timeout.TotalSeconds:0.###} s")
    {
        Stage = stage;
        Timeout = timeout;
    }

    /// <summary>The stage that timed out.</summary>
    public SmtpStage Stage { get; }

    /// <summary>The timeout that expired.</summary>
    public TimeSpan Timeout { get; }
}
