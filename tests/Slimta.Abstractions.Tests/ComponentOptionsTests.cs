using Slimta.Abstractions.Configuration;

namespace Slimta.Abstractions.Tests;

public sealed class ComponentOptionsTests
{
    private static ComponentOptions Options(params (string Key, string? Value)[] entries) =>
        new(new ConfigMap("relay.out", entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar("relay.out." + e.Key, e.Value, new SourceLocation("slimta.conf", 7))))),
            new HashSet<string> { "type" });

    [Fact]
    public void GetInt32_NotANumber_ErrorNamesKeyPathAndLine()
    {
        var e = Assert.Throws<ConfigException>(() => Options(("port", "twenty-five")).GetInt32("port", 25));
        Assert.Equal("relay.out.port", e.KeyPath);
        Assert.Equal("relay.out.port: 'twenty-five' is not a whole number (slimta.conf:7)", e.Message);
    }

    [Fact]
    public void RequireKnownKeys_MisspelledKey_ErrorListsKnownKeys()
    {
        var e = Assert.Throws<ConfigException>(() => Options(("type", "static"), ("hots", "x")).RequireKnownKeys("host", "port"));
        Assert.Equal("relay.out.hots", e.KeyPath);
        Assert.Contains("host, port, type", e.Message);
    }

    [Fact]
    public void GetRequiredString_Missing_ErrorNamesTheComponent()
    {
        var e = Assert.Throws<ConfigException>(() => Options(("type", "static")).GetRequiredString("host"));
        Assert.Equal("relay.out", e.KeyPath);
        Assert.Contains("'host' is required", e.Message);
    }

    [Theory]
    [InlineData("yes", true)]
    [InlineData("False", false)]
    [InlineData(null, true)]
    public void GetBoolean_Spellings_Parsed(string? text, bool expected)
    {
        var options = text is null ? Options() : Options(("flag", text));
        Assert.Equal(expected, options.GetBoolean("flag", true));
    }

    [Fact]
    public void GetSeconds_Fractional_ParsedAsTimeSpan()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Options(("timeout", "1.5")).GetSeconds("timeout", TimeSpan.Zero));
    }
}
