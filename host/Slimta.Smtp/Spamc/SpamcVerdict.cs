namespace Slimta.Smtp.Spamc;

/// <summary>What spamd said about one message.</summary>
/// <param name="IsSpam">True when the score reached the required score.</param>
/// <param name="Score">The message's score.</param>
/// <param name="Required">The score at which spamd calls a message spam.</param>
/// <param name="Symbols">The names of the rules that matched.</param>
public sealed record SpamcVerdict(bool IsSpam, double Score, double Required, IReadOnlyList<string> Symbols);
