namespace Slimta.Abstractions.Queueing;

/// <summary>A queue id with the time of its next delivery attempt.</summary>
/// <param name="Id">The queue id.</param>
/// <param name="NextAttempt">When the next attempt is due.</param>
public readonly record struct ScheduledMessage(string Id, DateTimeOffset NextAttempt);
