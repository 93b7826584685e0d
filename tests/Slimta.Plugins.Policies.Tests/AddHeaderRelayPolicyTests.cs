using System.Text;
using Slimta.Abstractions.Configuration;
using static Slimta.Plugins.Policies.Tests.PolicyTestKit;

using Slimta.Testing;

namespace Slimta.Plugins.Policies.Tests;

public sealed class AddHeaderRelayPolicyTests
{
    private static ConfigScalar Scalar(string key, string value) => new(PolicyPath + "." + key, value);

    private static Slimta.Abstractions.Queueing.IRelayPolicy Create(string name, string value)
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).RelayPolicies["add_header"];
        var options = Options("add_header", ("name", Scalar("name", name)), ("value", Scalar("value", value)));
        factory.Validate(options);
        return factory.Create(options, Context());
    }

    [Fact]
    public async Task Apply_TemplatedValue_AppendsAfterLastHeaderAndKeepsEveryOtherByte()
    {
        var envelope = Envelope();
        envelope.Id = "0123abcd";
        await Create("X-Relayed-By", "{fqdn} ({hostname}) id {id}").ApplyAsync(envelope, CancellationToken.None);

        byte[] expected = [.. Headers, .. Encoding.ASCII.GetBytes("X-Relayed-By: mx.example.com (mx) id 0123abcd\r\n"), .. Body];
        Assert.Equal(expected, Bytes(envelope));
    }

    [Theory]
    [InlineData("name", "X Bad")]
    [InlineData("name", "X:Bad")]
    [InlineData("name", "")]
    [InlineData("value", "a\nInjected: yes")]
    public void Validate_BadNameOrValue_ConfigErrorAtKeyPath(string key, string bad)
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).RelayPolicies["add_header"];
        var name = key == "name" ? bad : "X-Ok";
        var value = key == "value" ? bad : "ok";
        var error = Assert.Throws<ConfigException>(() => factory.Validate(Options("add_header", ("name", Scalar("name", name)), ("value", Scalar("value", value)))));
        Assert.Equal(PolicyPath + "." + key, error.KeyPath);
    }

    [Fact]
    public void Validate_MissingValue_ConfigError()
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).RelayPolicies["add_header"];
        Assert.Throws<ConfigException>(() => factory.Validate(Options("add_header", ("name", Scalar("name", "X-A")))));
    }
}
