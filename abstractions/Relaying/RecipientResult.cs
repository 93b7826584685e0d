namespace Slimta.Abstractions.Relaying;

/// <summary>The result of one delivery attempt for one recipient.</summary>
/// <param name="Outcome">Delivered, transient or permanent failure.</param>
/// <param name="Reply">The reply that decided it (the next hop's, or one the relay made up).</param>
public readonly record struct RecipientResult(DeliveryOutcome Outcome, Reply Reply)
{
    /// <summary>Maps an SMTP reply to an outcome by its class.</summary>
    public static RecipientResult FromReply(Reply reply) => new(
        reply.IsSuccess ? DeliveryOutcome.Delivered : reply.IsTransient ? DeliveryOutcome.TransientFailure : DeliveryOutcome.PermanentFailure,
        reply);
}
