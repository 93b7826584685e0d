using System.Globalization;
using NCalc;

namespace Slimta.Host.Configuration;

/// <summary>
/// The <c>retry.delay</c> expression, evaluated with NCalc (never as code). Function names are
/// case-insensitive so slimta configs written with Python's <c>min</c>, <c>pow</c> keep working.
/// </summary>
public static class RetryDelayExpression
{
    /// <summary>Seconds until the next attempt after <paramref name="attempts"/> attempts.</summary>
    /// <exception cref="ArgumentException">The expression does not parse or does not give a number.</exception>
    public static double Evaluate(string expression, int attempts)
    {
        var parsed = new Expression(expression, ExpressionOptions.IgnoreCaseAtBuiltInFunctions);
        parsed.Parameters["x"] = attempts;
        object? result;
        try
        {
            result = parsed.Evaluate();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ArgumentException($"'{expression}' is not a valid expression: {ex.Message}", nameof(expression), ex);
        }
        try
        {
            var seconds = Convert.ToDouble(result, CultureInfo.InvariantCulture);
            return double.IsNaN(seconds) ? throw new ArgumentException($"'{expression}' does not give a number", nameof(expression)) : seconds;
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException)
        {
            throw new ArgumentException($"'{expression}' gives {result ?? "nothing"}, not a number of seconds", nameof(expression), ex);
        }
    }
}
