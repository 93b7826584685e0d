namespace Slimta.Plugins.Rackspace;

/// <summary>A Cloud Queues claim this process holds on a message's notice, for the engine's worker <paramref name="WorkerId"/>.</summary>
internal sealed record HeldClaim(string WorkerId, ClaimedNotice Notice);
