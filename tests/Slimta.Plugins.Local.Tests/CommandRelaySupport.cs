using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Envelopes;
using Slimta.Abstractions.Relaying;

using Slimta.Testing;

namespace Slimta.Plugins.Local.Tests;

/// <summary>Options with lists, contexts and envelopes for the command relay tests.</summary>
internal static class CommandRelaySupport
{
    public const string Message = "From: a@example.org\r\nMessage-Id: <m1@example.org>\r\nSubject: hi\r\n\r\n.dot line\r\nbody \u00e9\r\n";

    public static ComponentOptions Options(string type, params (string Key, object Value)[] entries) =>
        new(new ConfigMap("relay.local", new[] { ("type", (object)type) }.Concat(entries).Select(e => KeyValuePair.Create(e.Item1, Node("relay.local." + e.Item1, e.Item2)))),
            new HashSet<string>(StringComparer.Ordinal) { "type" });

    public static IRelay Create(string type, params (string Key, object Value)[] entries)
    {
        var factory = RecordingRegistry.Of(new LocalPlugin()).Relays[type];
        var options = Options(type, entries);
        factory.Validate(options);
        return factory.Create(options, new ComponentContext(TimeProvider.System, NullLoggerFactory.Instance, "mx", "mx.example.com", Path.GetTempPath()));
    }

    public static Envelope Envelope(params string[] recipients) =>
        new("sender@example.org", recipients, new RawMessage(Encoding.UTF8.GetBytes(Message))) { Id = "queue-id-1" };

    private static ConfigNode Node(string path, object value) => value switch
    {
        string[] list => new ConfigList(path, list.Select((v, i) => (ConfigNode)new ConfigScalar($"{path}.{i}", v)).ToList()),
        bool b => new ConfigScalar(path, b ? "true" : "false"),
        _ => new ConfigScalar(path, Convert.ToString(value, CultureInfo.InvariantCulture)),
    };
}
