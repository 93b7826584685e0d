namespace Slimta.Host.Configuration;

/// <summary><c>queue.NAME.retry</c>.</summary>
/// <param name="Delay">
/// Seconds until the next attempt, as an arithmetic expression in <c>x</c> (attempts so far),
/// already checked to parse and evaluate with NCalc. Default <c>"300"</c>.
/// </param>
/// <param name="Maximum">Retries before the message fails; null when not given.</param>
/// <param name="Path">The key path of the retry block, for errors found later (<c>queue.outbound.retry</c>).</param>
public sealed record RetryConfig(string Delay, int? Maximum, string Path)
{
    /// <summary>The delay used when <c>retry.delay</c> is not given.</summary>
    public const string DefaultDelay = "300";
}
