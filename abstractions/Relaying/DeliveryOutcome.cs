namespace Slimta.Abstractions.Relaying;

/// <summary>What happened to one recipient in one delivery attempt.</summary>
public enum DeliveryOutcome
{
    /// <summary>The next hop took responsibility for the message.</summary>
    Delivered,

    /// <summary>Not delivered this time; the queue retries later (4xx, connection failure, timeout).</summary>
    TransientFailure,

    /// <summary>Not delivered and never will be; the queue bounces (5xx, no such domain).</summary>
    PermanentFailure,
}
