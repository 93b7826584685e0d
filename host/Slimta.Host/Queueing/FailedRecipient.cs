using Slimta.Abstractions.Relaying;

namespace Slimta.Host.Queueing;

/// <summary>A recipient that failed permanently, with the reply that failed it.</summary>
/// <param name="Recipient">The recipient address.</param>
/// <param name="Reply">The final reply (for retries exhausted, the last transient reply with "(too many retries)").</param>
/// <param name="RemoteHost">The next hop that gave the reply, when known.</param>
public sealed record FailedRecipient(string Recipient, Reply Reply, string? RemoteHost);
