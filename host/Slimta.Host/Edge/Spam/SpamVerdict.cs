namespace Slimta.Host.Edge.Spam;

/// <summary>spamd's answer to CHECK.</summary>
/// <param name="IsSpam">True when spamd says <c>Spam: True</c>.</param>
/// <param name="Score">The message's score.</param>
/// <param name="Threshold">The score at which spamd calls a message spam.</param>
public sealed record SpamVerdict(bool IsSpam, double Score, double Threshold);
