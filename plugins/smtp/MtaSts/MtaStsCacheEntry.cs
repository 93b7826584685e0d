namespace Slimta.Plugins.Smtp.MtaSts;

/// <summary>A cached policy of one domain: the id of the TXT record it came with, and when it expires.</summary>
internal sealed record MtaStsCacheEntry(string Domain, string Id, MtaStsPolicy Policy, DateTimeOffset Expires);
