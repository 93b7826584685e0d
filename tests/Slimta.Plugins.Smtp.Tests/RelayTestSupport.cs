using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

namespace Slimta.Plugins.Smtp.Tests;

/// <summary>Builds relay options, contexts and envelopes for the tests.</summary>
internal static class RelayTestSupport
{
    public const string Path = "relay.out";

    /// <summary>Options at <c>relay.out</c>; a value that is an entry array becomes a nested mapping.</summary>
    public static ComponentOptions Options(params (string Key, object Value)[] entries) =>
        new(Map(Path, entries), new HashSet<string>(StringComparer.Ordinal) { "type" });

    public static ComponentContext Context(TimeProvider? time = null) =>
        new(time ?? TimeProvider.System, NullLoggerFactory.Instance, "testhost", "testhost.example", System.IO.Path.GetTempPath());

    public static IRelay CreateStatic(int port, TimeProvider? time = null, params (string Key, object Value)[] extra) =>
        new SmtpRelayFactory(lmtp: false).Create(Options([("host", "127.0.0.1"), ("port", port), .. extra]), Context(time));

    public static IRelay CreateMx(string dns, int port, TimeProvider? time = null, params (string Key, object Value)[] extra) =>
        SmtpRelayFactory.ForMx().Create(Options([("port", port), ("dns", new (string, object)[] { ("servers", dns), ("timeout", 2) }), .. extra]), Context(time));

    public static Envelope Envelope(string message, params string[] recipients) =>
        new("sender@x.test", recipients.Length == 0 ? ["rcpt@x.test"] : recipients, new RawMessage(Encoding.UTF8.GetBytes(message))) { Id = "test-id" };

    private static ConfigMap Map(string path, (string Key, object Value)[] entries) =>
        new(path, entries.Select(e => KeyValuePair.Create(e.Key, Node(ConfigNode.Combine(path, e.Key), e.Value))));

    private static ConfigNode Node(string path, object value) => value switch
    {
        (string, object)[] nested => Map(path, nested),
        bool b => new ConfigScalar(path, b ? "true" : "false"),
        _ => new ConfigScalar(path, Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
