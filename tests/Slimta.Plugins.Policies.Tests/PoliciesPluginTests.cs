using System.Reflection;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using static Slimta.Plugins.Policies.Tests.PolicyTestKit;

using Slimta.Testing;

namespace Slimta.Plugins.Policies.Tests;

public sealed class PoliciesPluginTests
{
    [Fact]
    public void Register_Always_AddsEveryPolicyName()
    {
        Assert.Equal(
            ["queue_policy:add_date_header", "queue_policy:add_message_id_header", "queue_policy:add_messageid_header", "queue_policy:add_received_header", "queue_policy:recipient_split", "queue_policy:recipient_domain_split", "queue_policy:forward", "queue_policy:spamassassin", "relay_policy:add_header"],
            RecordingRegistry.Of(new PoliciesPlugin()).Registered);
        Assert.Equal(typeof(PoliciesPlugin), typeof(PoliciesPlugin).Assembly.GetCustomAttribute<SlimtaPluginAttribute>()?.EntryType);
    }

    [Theory]
    [InlineData("add_date_header")]
    [InlineData("add_message_id_header")]
    [InlineData("add_messageid_header")]
    [InlineData("add_received_header")]
    [InlineData("recipient_split")]
    [InlineData("recipient_domain_split")]
    public void Validate_UnknownKey_ConfigErrorAtKeyPath(string type)
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies[type];
        var options = Options(type, ("hostname", new ConfigScalar(PolicyPath + ".hostname", "x")));
        var error = Assert.Throws<ConfigException>(() => factory.Validate(options));
        Assert.Equal(PolicyPath + ".hostname", error.KeyPath);
        Assert.StartsWith(PolicyPath + ".hostname: unknown key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("add_date_header")]
    [InlineData("add_received_header")]
    [InlineData("recipient_domain_split")]
    public void Validate_TypeOnly_Passes(string type)
    {
        RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies[type].Validate(Options(type));
    }
}
