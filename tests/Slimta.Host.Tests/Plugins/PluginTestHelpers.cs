using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;
using Slimta.Testing;

namespace Slimta.Host.Tests.Plugins;

internal static class PluginTestHelpers
{
    public const string JsonOld = "Slimta.TestPlugins.JsonOld";
    public const string JsonNew = "Slimta.TestPlugins.JsonNew";

    public static ComponentContext Context() =>
        new(TimeProvider.System, NullLoggerFactory.Instance, "mail", "mail.example.com", TestPaths.NewTempDir());

    /// <summary>Options at <paramref name="path"/> built from key/value pairs.</summary>
    public static ComponentOptions Options(string path, params (string Key, string Value)[] entries) =>
        new(new ConfigMap(path, entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, new ConfigScalar(ConfigNode.Combine(path, e.Key), e.Value, new SourceLocation("test.yaml", 7)))), new SourceLocation("test.yaml", 5)));

    public static Envelope Envelope() =>
        new("sender@example.com", ["rcpt@example.com"], RawMessage.FromString("Subject: hi\r\n\r\nbody\r\n"));

    public static async Task<Reply> DeliverAsync(IRelay relay)
    {
        var result = await relay.AttemptAsync(Envelope(), 0, CancellationToken.None);
        var recipient = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryOutcome.Delivered, recipient.Outcome);
        return recipient.Reply;
    }
}
