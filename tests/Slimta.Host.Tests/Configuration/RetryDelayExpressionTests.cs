using Slimta.Host.Configuration;

namespace Slimta.Host.Tests.Configuration;

public sealed class RetryDelayExpressionTests
{
    [Theory]
    [InlineData("300", 4, 300)]
    [InlineData("300*x", 3, 900)]
    [InlineData("min(60*pow(2, x), 3600)", 3, 480)]
    [InlineData("min(60*pow(2, x), 3600)", 10, 3600)]
    [InlineData("Max(x, 5) + sqrt(16)", 1, 9)]
    public void Evaluate_SlimtaStyleExpressions_GiveSeconds(string expression, int attempts, double seconds)
    {
        Assert.Equal(seconds, RetryDelayExpression.Evaluate(expression, attempts), 6);
    }

    [Theory]
    [InlineData("300*(x")]
    [InlineData("nosuchfunction(x)")]
    [InlineData("'text'")]
    public void Evaluate_BadExpression_ThrowsArgumentException(string expression)
    {
        var ex = Assert.Throws<ArgumentException>(() => RetryDelayExpression.Evaluate(expression, 1));

        Assert.Contains(expression, ex.Message, StringComparison.Ordinal);
    }
}
