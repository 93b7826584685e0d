using Microsoft.Extensions.Logging.Abstractions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;
using Slimta.Plugins.Rackspace.Tests.FakeRackspace;
using Slimta.Testing;

namespace Slimta.Plugins.Rackspace.Tests;

/// <summary>Builds rackspace queue options and storages the way the host does (through the plugin's factory).</summary>
internal static class RackspaceOptions
{
    private static readonly HashSet<string> HostKeys = new(StringComparer.Ordinal) { "type", "relay", "bounce_queue", "policies", "retry" };

    /// <summary>Options at <c>queue.q</c>; a value is a string or a (key, value) array for a section.</summary>
    public static ComponentOptions Options(params (string Key, object Value)[] entries) =>
        new(Map("queue.q", entries), HostKeys);

    private static ConfigMap Map(string path, (string Key, object Value)[] entries) =>
        new(path, entries.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, e.Value switch
        {
            string s => new ConfigScalar(path + "." + e.Key, s),
            (string, object)[] section => Map(path + "." + e.Key, section),
            _ => throw new ArgumentException("unsupported value", nameof(entries)),
        })));

    public static IComponentFactory<IQueueStorage> Factory()
    {
        var registry = new RecordingRegistry();
        new RackspacePlugin().Register(registry);
        return registry.Storages["rackspace"];
    }

    /// <summary>The keys every test storage needs, pointing at <paramref name="server"/>.</summary>
    public static (string Key, object Value)[] Basic(FakeRackspaceServer server, string container, string? queue = null)
    {
        var list = new List<(string, object)>
        {
            ("type", "rackspace"),
            ("endpoint", server.IdentityUrl),
            ("username", FakeRackspaceServer.Username),
            ("api_key", FakeRackspaceServer.ApiKey),
            ("container_name", container),
            ("timeout", "5"),
        };
        if (queue is not null)
        {
            list.Add(("queue_name", queue));
        }
        return [.. list];
    }

    public static RackspaceStorage Create(ComponentOptions options, TimeProvider? time = null) =>
        (RackspaceStorage)Factory().Create(options, new ComponentContext(time ?? TimeProvider.System, NullLoggerFactory.Instance, "mx", "mx.test", TestPaths.NewTempDir("slimta-rackspace")));

    public static RackspaceStorage Create(FakeRackspaceServer server, string container, string? queue = null, TimeProvider? time = null, params (string Key, object Value)[] extra) =>
        Create(Options([.. Basic(server, container, queue), .. extra]), time);

    public static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];
}
