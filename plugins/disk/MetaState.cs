namespace Slimta.Plugins.Disk;

/// <summary>What a <c>.meta</c> file holds: the small, often-changed delivery state of one message.</summary>
/// <param name="Attempts">Delivery attempts so far.</param>
/// <param name="NextAttempt">When the next attempt is due.</param>
/// <param name="RecipientCount">How many recipients the envelope has (to check delivered indexes without reading it).</param>
/// <param name="Delivered">Indexes of delivered recipients, ascending.</param>
internal sealed record MetaState(int Attempts, DateTimeOffset NextAttempt, int RecipientCount, int[] Delivered);
