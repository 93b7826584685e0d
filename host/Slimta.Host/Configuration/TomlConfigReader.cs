using System.Globalization;
using System.Text.RegularExpressions;
using Slimta.Abstractions.Configuration;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;

namespace Slimta.Host.Configuration;

/// <summary>
/// Reads a TOML document into the configuration tree. Numbers, booleans and dates become their
/// invariant text so TOML and YAML forms of one config give equal trees. A top-level
/// <c>include = [...]</c> merges other files in (see <see cref="ConfigMerge"/>); string values may
/// reference environment variables as <c>${env:NAME}</c>.
/// </summary>
internal sealed partial class TomlConfigReader
{
    private const string IncludeKey = "include";

    private readonly ConfigReadContext _context;
    private readonly string _file;
    private readonly string _baseDirectory;
    private readonly TomlMetadataStore _metadata = new();

    public TomlConfigReader(ConfigReadContext context, string file, string baseDirectory)
    {
        _context = context;
        _file = file;
        _baseDirectory = baseDirectory;
    }

    /// <summary>Parses the document and converts it to a mapping at <paramref name="keyPath"/>.</summary>
    public ConfigNode Read(string text, string keyPath)
    {
        TomlTable table;
        try
        {
            // Semantic validation first: the untyped model would keep the last of two equal keys.
            SyntaxParser.ParseStrict(text, _file, validate: true);
            var options = new TomlSerializerOptions { MetadataStore = _metadata, SourceName = _file, DuplicateKeyHandling = TomlDuplicateKeyHandling.Error };
            table = TomlSerializer.Deserialize<TomlTable>(text, options) ?? new TomlTable();
        }
        catch (TomlException ex)
        {
            throw new ConfigException(keyPath, $"invalid TOML: {FirstLine(ex.Message)}", new SourceLocation(_file, ex.Line ?? 0), ex);
        }
        var includes = new List<ConfigNode>();
        if (table.TryGetValue(IncludeKey, out var include))
        {
            includes.AddRange(ReadIncludes(include, keyPath, LocationOf(table, IncludeKey)));
        }
        var own = ConvertTable(table, keyPath, new SourceLocation(_file, 1), skipInclude: true);
        var result = own;
        if (includes.Count > 0)
        {
            // Included files first, in order, then this file on top: the including file wins.
            var baseline = includes[0];
            foreach (var next in includes.Skip(1).Append(own))
            {
                baseline = ConfigMerge.Merge(baseline, next);
            }
            result = (ConfigMap)baseline;
        }
        return result;
    }

    private IEnumerable<ConfigNode> ReadIncludes(object value, string keyPath, SourceLocation? location)
    {
        IEnumerable<object?> files = value switch
        {
            string one => [one],
            TomlArray many => many,
            _ => throw new ConfigException(ConfigNode.Combine(keyPath, IncludeKey), "expected a file name or a list of file names", location),
        };
        foreach (var file in files)
        {
            if (file is not string name || name.Length == 0)
            {
                throw new ConfigException(ConfigNode.Combine(keyPath, IncludeKey), "expected a file name or a list of file names", location);
            }
            var node = _context.ReadInclude(System.IO.Path.GetFullPath(name, _baseDirectory), keyPath, location, ConfigFormat.Toml, errorPath: ConfigNode.Combine(keyPath, IncludeKey));
            yield return node is ConfigMap
                ? node
                : throw new ConfigException(ConfigNode.Combine(keyPath, IncludeKey), $"the included file {name} must hold a mapping, not {node.KindName}", location);
        }
    }

    private ConfigMap ConvertTable(TomlTable table, string path, SourceLocation location, bool skipInclude = false)
    {
        var entries = new List<KeyValuePair<string, ConfigNode>>();
        foreach (var (key, value) in table)
        {
            if (skipInclude && key == IncludeKey)
            {
                continue;
            }
            entries.Add(new(key, Convert(value, ConfigNode.Combine(path, key), LocationOf(table, key) ?? location)));
        }
        return new ConfigMap(path, entries, location);
    }

    private ConfigNode Convert(object? value, string path, SourceLocation location) => value switch
    {
        null => new ConfigScalar(path, null, location),
        TomlTable table => ConvertTable(table, path, location),
        TomlTableArray tables => new ConfigList(path, tables.Select((t, i) => (ConfigNode)ConvertTable(t, Index(path, i), location)).ToList(), location),
        TomlArray array => new ConfigList(path, array.Select((v, i) => Convert(v, Index(path, i), location)).ToList(), location),
        string text => new ConfigScalar(path, ExpandEnvironment(text, path, location), location),
        bool flag => new ConfigScalar(path, flag ? "true" : "false", location),
        double number => new ConfigScalar(path, FormatDouble(number), location),
        float number => new ConfigScalar(path, FormatDouble(number), location),
        TomlDateTime date => new ConfigScalar(path, date.ToString(), location),
        IFormattable formattable => new ConfigScalar(path, formattable.ToString(null, CultureInfo.InvariantCulture), location),
        _ => new ConfigScalar(path, value.ToString(), location),
    };

    private static string FormatDouble(double number) => number switch
    {
        double.PositiveInfinity => "inf",
        double.NegativeInfinity => "-inf",
        double.NaN => "nan",
        _ => number.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string ExpandEnvironment(string text, string path, SourceLocation location) =>
        EnvReference().Replace(text, match =>
        {
            var name = match.Groups["name"].Value;
            return Environment.GetEnvironmentVariable(name)
                ?? throw new ConfigException(path, $"the environment variable '{name}' is not set", location);
        });

    private SourceLocation? LocationOf(TomlTable table, string key)
    {
        if (_metadata.TryGetProperties(table, out var properties)
            && properties is not null
            && properties.TryGetProperty(key, out var property)
            && property?.Span is { } span)
        {
            // Tomlyn counts lines from 0.
            return new SourceLocation(_file, span.Start.Line + 1);
        }
        return null;
    }

    private static string Index(string path, int i) => ConfigNode.Combine(path, i.ToString(CultureInfo.InvariantCulture));

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).TrimEnd();
    }

    [GeneratedRegex(@"\$\{env:(?<name>[^}]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex EnvReference();
}
