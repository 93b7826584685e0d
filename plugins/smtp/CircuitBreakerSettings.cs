using Slimta.Abstractions.Configuration;

namespace Slimta.Plugins.Smtp;

/// <summary>
/// The <c>circuit_breaker</c> section: after <c>failures</c> (5) connection failures in a row to
/// one destination within <c>duration</c> seconds (30), attempts to that destination fail at once
/// (transient 4.4.1) for <c>duration</c> seconds instead of each waiting for its own connect
/// timeout. <c>failures: 0</c> turns the breaker off.
/// </summary>
internal sealed class CircuitBreakerSettings
{
    public int Failures { get; init; } = 5;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public static CircuitBreakerSettings Parse(ComponentOptions? section)
    {
        if (section is null)
        {
            return new CircuitBreakerSettings();
        }
        section.RequireKnownKeys("failures", "duration");
        int failures = section.GetInt32("failures", 5, 0, 1_000_000);
        if (failures == 1)
        {
            // Polly's breaker needs at least two calls to compute a failure ratio.
            throw section.Error("failures", "must be 0 (off) or at least 2");
        }
        var duration = section.GetSeconds("duration", TimeSpan.FromSeconds(30));
        if (duration < TimeSpan.FromSeconds(0.5))
        {
            throw section.Error("duration", "must be at least 0.5 seconds");
        }
        return new CircuitBreakerSettings { Failures = failures, Duration = duration };
    }
}
