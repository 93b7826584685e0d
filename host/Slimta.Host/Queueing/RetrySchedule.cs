using System.Globalization;
using NCalc;
using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Queueing;

/// <summary>
/// The <c>retry</c> block of a queue: <c>delay</c>, an arithmetic expression in <c>x</c> (attempts so
/// far) giving the seconds until the next attempt, and <c>maximum</c>, the number of retries before
/// the message fails. The expression is evaluated by NCalc — never compiled or run as code — with
/// case-insensitive built-in functions (slimta configs write <c>min</c>, <c>pow</c>) plus the Python
/// math names NCalc lacks (<c>ceil</c>, <c>trunc</c>, <c>fabs</c>, <c>log2</c>).
/// </summary>
public sealed class RetrySchedule
{
    /// <summary>The default delay expression of slimta: five minutes between attempts.</summary>
    public const string DefaultDelay = "300";

    private readonly string _expression;

    private RetrySchedule(string expression, int maximum)
    {
        _expression = expression;
        Maximum = maximum;
    }

    /// <summary>Retries allowed before the message fails permanently.</summary>
    public int Maximum { get; }

    /// <summary>The delay expression as configured.</summary>
    public string Expression => _expression;

    /// <summary>
    /// Checks and compiles a retry block. A bad expression is a configuration error at startup
    /// (named by <paramref name="keyPath"/><c>.delay</c>), not a surprise on the first failure.
    /// </summary>
    public static RetrySchedule Create(string? delay, int maximum, string keyPath, SourceLocation? location = null)
    {
        var expression = string.IsNullOrWhiteSpace(delay) ? DefaultDelay : delay;
        if (maximum < 0)
        {
            throw new ConfigException(keyPath + ".maximum", "must be 0 or more", location);
        }
        var schedule = new RetrySchedule(expression, maximum);
        // Evaluate a few points now so a typo, an unknown function or a negative result fails the
        // startup with the key path instead of the first delivery failure.
        for (int x = 0; x <= 3; x++)
        {
            try
            {
                schedule.Evaluate(x);
            }
            catch (Exception e) when (e is not ConfigException)
            {
                throw new ConfigException(keyPath + ".delay", $"'{expression}' is not a valid delay expression in x: {e.Message}", location, e);
            }
        }
        return schedule;
    }

    /// <summary>The delay before the next attempt after <paramref name="attempts"/> attempts.</summary>
    public TimeSpan DelayAfter(int attempts)
    {
        double seconds = Evaluate(attempts);
        // Cap at a year so a runaway expression (pow(2, x)) cannot overflow the clock.
        return TimeSpan.FromSeconds(Math.Min(seconds, 365 * 24 * 3600.0));
    }

    private double Evaluate(int x)
    {
        var e = new Expression(_expression, ExpressionOptions.IgnoreCaseAtBuiltInFunctions | ExpressionOptions.NoCache);
        e.Parameters["x"] = x;
        e.Functions["ceil"] = d => Math.Ceiling(ToDouble(d.Evaluate(0)));
        e.Functions["trunc"] = d => Math.Truncate(ToDouble(d.Evaluate(0)));
        e.Functions["fabs"] = d => Math.Abs(ToDouble(d.Evaluate(0)));
        e.Functions["log2"] = d => Math.Log2(ToDouble(d.Evaluate(0)));
        var value = ToDouble(e.Evaluate());
        if (double.IsNaN(value) || double.IsInfinity(value) || value < 0)
        {
            throw new InvalidOperationException($"gives {value.ToString(CultureInfo.InvariantCulture)} seconds for x = {x}; a delay must be a finite number of seconds, 0 or more");
        }
        return value;
    }

    private static double ToDouble(object? value) => value switch
    {
        null => throw new InvalidOperationException("the expression has no value"),
        bool => throw new InvalidOperationException("the expression gives true/false, not a number"),
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"the expression gives {value.GetType().Name}, not a number"),
    };
}
