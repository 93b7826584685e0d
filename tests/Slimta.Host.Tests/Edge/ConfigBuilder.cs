using System.Collections;
using System.Globalization;
using Slimta.Abstractions.Configuration;

namespace Slimta.Host.Tests.Edge;

/// <summary>Builds configuration trees from dictionaries, lists and values, as the YAML/TOML readers would.</summary>
internal static class ConfigBuilder
{
    public static readonly IReadOnlySet<string> HostKeys = new HashSet<string>(["type", "queue"], StringComparer.Ordinal);

    public static ComponentOptions Edge(Dictionary<string, object?> entries) =>
        new((ConfigMap)Node("edge.inbound", new Dictionary<string, object?>(entries) { ["type"] = "smtp", ["queue"] = "main" }), HostKeys);

    public static ConfigNode Node(string path, object? value) => value switch
    {
        null => new ConfigScalar(path, null),
        IDictionary<string, object?> map => new ConfigMap(path, map.Select(e => new KeyValuePair<string, ConfigNode>(e.Key, Node(ConfigNode.Combine(path, e.Key), e.Value)))),
        string s => new ConfigScalar(path, s),
        IEnumerable list => new ConfigList(path, list.Cast<object?>().Select((item, i) => Node(ConfigNode.Combine(path, i.ToString(CultureInfo.InvariantCulture)), item)).ToList()),
        IFormattable f => new ConfigScalar(path, f.ToString(null, CultureInfo.InvariantCulture)),
        _ => new ConfigScalar(path, value.ToString()),
    };
}
