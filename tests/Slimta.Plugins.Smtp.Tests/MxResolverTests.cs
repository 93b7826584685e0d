namespace Slimta.Plugins.Smtp.Tests;

/// <summary>Domain name handling of the mx relay's resolver.</summary>
public sealed class MxResolverTests
{
    [Theory]
    [InlineData("Example.TEST.", "example.test")]
    [InlineData("b\u00fccher.test", "xn--bcher-kva.test")]
    public void ToAscii_Domain_LowerCaseALabels(string domain, string expected)
    {
        Assert.Equal(expected, MxResolver.ToAscii(domain));
    }

    [Fact]
    public void ToAscii_EmptyLabel_Null()
    {
        Assert.Null(MxResolver.ToAscii("a..test"));
    }
}
