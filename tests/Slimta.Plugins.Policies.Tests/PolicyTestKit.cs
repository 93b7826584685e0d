using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Queueing;

using Slimta.Testing;

namespace Slimta.Plugins.Policies.Tests;

/// <summary>Options, contexts and messages shared by the policy tests.</summary>
internal static class PolicyTestKit
{
    public const string PolicyPath = "queue.inbound.policies.0";

    /// <summary>2026-11-28 21:04:05 UTC, shown in a +01:00 zone as 22:04:05 +0100.</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 21, 4, 5, TimeSpan.Zero);

    public static readonly TimeZoneInfo PlusOne = TimeZoneInfo.CreateCustomTimeZone("Test+1", TimeSpan.FromHours(1), "Test+1", "Test+1");

    /// <summary>Headers with UTF-8 in a display name and a subject, and a folded field.</summary>
    public static readonly byte[] Headers = Encoding.UTF8.GetBytes(
        "From: \"José Núñez\" <jose@example.org>\r\nTo: <bob@example.com>\r\nSubject: Grüße aus Köln\r\nX-Folded: one\r\n\ttwo\r\n");

    /// <summary>The blank line and an 8-bit body that is not valid UTF-8 (Latin-1 bytes, NUL, a lone CR).</summary>
    public static readonly byte[] Body = [.. "\r\n"u8.ToArray(), 0xE9, 0xFC, 0xDF, 0x00, 0xFF, (byte)'\r', (byte)'x', .. "\r\nend\r\n"u8.ToArray()];

    public static byte[] Original => [.. Headers, .. Body];

    public static FakeTimeProvider Time()
    {
        var time = new FakeTimeProvider(Now);
        time.SetLocalTimeZone(PlusOne);
        return time;
    }

    public static ComponentContext Context(TimeProvider? time = null) =>
        new(time ?? Time(), NullLoggerFactory.Instance, "mx", "mx.example.com", Path.GetTempPath());

    public static ComponentOptions Options(string type, params (string Key, ConfigNode Value)[] entries) => new(
        new ConfigMap(PolicyPath, new[] { (Key: "type", Value: (ConfigNode)new ConfigScalar(PolicyPath + ".type", type)) }.Concat(entries)
            .Select(e => new KeyValuePair<string, ConfigNode>(e.Key, e.Value))),
        new HashSet<string>(StringComparer.Ordinal) { "type" });

    public static ConfigMap Mapping(params (string Pattern, string Replacement)[] entries) => new(
        PolicyPath + ".mapping",
        entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Pattern, new ConfigScalar(PolicyPath + ".mapping." + e.Pattern, e.Replacement))));

    public static IQueuePolicy Create(string type, params (string Key, ConfigNode Value)[] entries) => Create(type, Context(), entries);

    public static IQueuePolicy Create(string type, ComponentContext context, params (string Key, ConfigNode Value)[] entries)
    {
        var factory = RecordingRegistry.Of(new PoliciesPlugin()).QueuePolicies[type];
        var options = Options(type, entries);
        factory.Validate(options);
        return factory.Create(options, context);
    }

    public static Envelope Envelope(params string[] recipients) =>
        new("sender@example.org", recipients.Length == 0 ? ["bob@example.com"] : recipients, new RawMessage(Original));

    public static byte[] Bytes(Envelope envelope) => envelope.Message.Bytes.ToArray();
}
