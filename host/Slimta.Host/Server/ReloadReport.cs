namespace Slimta.Host.Server;

/// <summary>What a configuration reload (SIGHUP) did.</summary>
/// <param name="Applied">Changes in effect now, as key paths (<c>relay.out</c>, <c>queue.inbound.retry</c>, …).</param>
/// <param name="RestartNeeded">Changes that were not applied because only a restart can apply them, with the reason.</param>
public sealed record ReloadReport(IReadOnlyList<string> Applied, IReadOnlyList<string> RestartNeeded)
{
    /// <summary>True when the new configuration equals the running one.</summary>
    public bool NoChange => Applied.Count == 0 && RestartNeeded.Count == 0;
}
