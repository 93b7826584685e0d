using System.Globalization;
using Slimta.Abstractions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Slimta.Host.Configuration;

/// <summary>
/// Reads one YAML document into the configuration tree with YamlDotNet's event parser (it keeps
/// line numbers, and lets this reader see tags, anchors, aliases and duplicate keys itself).
/// Supports <c>!include FILE</c>, <c>!env NAME</c>, anchors/aliases and merge keys (<c>&lt;&lt;: *x</c>).
/// </summary>
internal sealed class YamlConfigReader
{
    private const string IncludeTag = "!include";
    private const string EnvTag = "!env";
    private const string MergeKey = "<<";
    private const string CoreTagPrefix = "tag:yaml.org,2002:";

    private readonly ConfigReadContext _context;
    private readonly string _file;
    private readonly string _baseDirectory;
    private readonly Dictionary<string, YamlRawNode> _anchors = new(StringComparer.Ordinal);

    public YamlConfigReader(ConfigReadContext context, string file, string baseDirectory)
    {
        _context = context;
        _file = file;
        _baseDirectory = baseDirectory;
    }

    /// <summary>Parses the document and converts it to a node at <paramref name="keyPath"/>.</summary>
    public ConfigNode Read(string text, string keyPath)
    {
        YamlRawNode? raw;
        try
        {
            raw = Parse(text);
        }
        catch (YamlException ex)
        {
            throw new ConfigException(keyPath, $"invalid YAML: {ex.Message}", Location((int)ex.Start.Line), ex);
        }
        // An empty file is an empty mapping, so an empty include or config reads as "nothing set".
        return raw is null ? new ConfigMap(keyPath, [], Location(1)) : Convert(raw, keyPath, raw.Line);
    }

    private YamlRawNode? Parse(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        if (parser.TryConsume<StreamEnd>(out _))
        {
            return null;
        }
        parser.Consume<DocumentStart>();
        var root = ParseNode(parser);
        parser.Consume<DocumentEnd>();
        if (!parser.Accept<StreamEnd>(out _))
        {
            throw new ConfigException(string.Empty, "the file holds more than one YAML document; put the configuration in one", Location(LineOf(parser.Current!)));
        }
        return root;
    }

    private YamlRawNode ParseNode(IParser parser)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            return _anchors.TryGetValue(alias.Value.Value, out var target)
                ? target
                : throw new ConfigException(string.Empty, $"unknown anchor '*{alias.Value.Value}'", Location(LineOf(alias)));
        }
        YamlRawNode node;
        AnchorName anchor;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            anchor = scalar.Anchor;
            node = new YamlRawNode.Scalar(TagOf(scalar.Tag), LineOf(scalar), scalar.Value, scalar.Style == ScalarStyle.Plain);
        }
        else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            anchor = sequenceStart.Anchor;
            var items = new List<YamlRawNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ParseNode(parser));
            }
            node = new YamlRawNode.Sequence(TagOf(sequenceStart.Tag), LineOf(sequenceStart), items);
        }
        else
        {
            var mappingStart = parser.Consume<MappingStart>();
            anchor = mappingStart.Anchor;
            var entries = new List<KeyValuePair<YamlRawNode.Scalar, YamlRawNode>>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Current!;
                if (ParseNode(parser) is not YamlRawNode.Scalar key)
                {
                    throw new ConfigException(string.Empty, "a mapping key must be a plain value, not a list or mapping", Location(LineOf(keyEvent)));
                }
                entries.Add(new(key, ParseNode(parser)));
            }
            node = new YamlRawNode.Mapping(TagOf(mappingStart.Tag), LineOf(mappingStart), entries);
        }
        if (!anchor.IsEmpty)
        {
            // Registered only once complete, so an alias inside its own anchor is "unknown":
            // recursive structures cannot be written.
            _anchors[anchor.Value] = node;
        }
        return node;
    }

    private ConfigNode Convert(YamlRawNode raw, string path, int line)
    {
        var location = Location(line);
        switch (raw)
        {
            case YamlRawNode.Scalar scalar:
                return ConvertScalar(scalar, path, location);
            case YamlRawNode.Sequence sequence:
                RejectTag(raw, path, location);
                var items = sequence.Items
                    .Select((item, i) => Convert(item, ConfigNode.Combine(path, i.ToString(CultureInfo.InvariantCulture)), item.Line))
                    .ToList();
                return new ConfigList(path, items, location);
            default:
                RejectTag(raw, path, location);
                return ConvertMapping((YamlRawNode.Mapping)raw, path, location);
        }
    }

    private ConfigMap ConvertMapping(YamlRawNode.Mapping mapping, string path, SourceLocation location)
    {
        var entries = new List<KeyValuePair<string, ConfigNode>>();
        var written = new Dictionary<string, int>(StringComparer.Ordinal);
        var merged = new List<YamlRawNode.Mapping>();
        foreach (var (key, value) in mapping.Entries)
        {
            if (key.IsPlain && key.Tag is null && key.Value == MergeKey)
            {
                merged.AddRange(MergeSources(value, ConfigNode.Combine(path, MergeKey), key.Line));
                continue;
            }
            var keyPath = ConfigNode.Combine(path, key.Value);
            if (written.TryGetValue(key.Value, out var firstLine))
            {
                throw new ConfigException(keyPath, $"the key is given twice (first on line {firstLine})", Location(key.Line));
            }
            written.Add(key.Value, key.Line);
            // A value takes its key's line: that is where a reader looks for it.
            entries.Add(new(key.Value, Convert(value, keyPath, key.Line)));
        }
        // Merge keys (YAML 1.1 "<<"): keys written in this mapping win, then earlier merged mappings.
        foreach (var source in merged)
        {
            foreach (var (key, value) in source.Entries)
            {
                if (written.TryAdd(key.Value, key.Line))
                {
                    entries.Add(new(key.Value, Convert(value, ConfigNode.Combine(path, key.Value), key.Line)));
                }
            }
        }
        return new ConfigMap(path, entries, location);
    }

    private IEnumerable<YamlRawNode.Mapping> MergeSources(YamlRawNode value, string path, int line) => value switch
    {
        YamlRawNode.Mapping m => [m],
        YamlRawNode.Sequence s when s.Items.All(i => i is YamlRawNode.Mapping) => s.Items.Cast<YamlRawNode.Mapping>(),
        _ => throw new ConfigException(path, "a merge key (<<) needs a mapping or a list of mappings, usually an alias like *defaults", Location(line)),
    };

    private ConfigNode ConvertScalar(YamlRawNode.Scalar scalar, string path, SourceLocation location)
    {
        switch (scalar.Tag)
        {
            case null:
                return new ConfigScalar(path, scalar.IsPlain ? PlainValue(scalar.Value) : scalar.Value, location);
            case EnvTag:
                var name = scalar.Value.Trim();
                var value = Environment.GetEnvironmentVariable(name);
                return value is null
                    ? throw new ConfigException(path, $"the environment variable '{name}' is not set", location)
                    : new ConfigScalar(path, value, location);
            case IncludeTag:
                var file = System.IO.Path.GetFullPath(scalar.Value.Trim(), _baseDirectory);
                return _context.ReadInclude(file, path, location, ConfigFormat.Yaml);
            case "!" or CoreTagPrefix + "str":
                return new ConfigScalar(path, scalar.Value, location);
            case CoreTagPrefix + "null":
                return new ConfigScalar(path, null, location);
            default:
                if (scalar.Tag.StartsWith(CoreTagPrefix, StringComparison.Ordinal))
                {
                    return new ConfigScalar(path, scalar.Value, location);
                }
                throw new ConfigException(path, $"unknown tag '{scalar.Tag}'; known: !env NAME, !include FILE", location);
        }
    }

    /// <summary>
    /// Plain scalars follow the YAML 1.2 core schema for null and booleans; booleans become
    /// <c>true</c>/<c>false</c> so YAML and TOML give equal trees. Everything else stays text.
    /// </summary>
    private static string? PlainValue(string value) => value switch
    {
        "" or "~" or "null" or "Null" or "NULL" => null,
        "true" or "True" or "TRUE" => "true",
        "false" or "False" or "FALSE" => "false",
        _ => value,
    };

    private static void RejectTag(YamlRawNode raw, string path, SourceLocation location)
    {
        if (raw.Tag is IncludeTag or EnvTag)
        {
            throw new ConfigException(path, $"{raw.Tag} takes a single value (a file name or variable name), not a list or mapping", location);
        }
        if (raw.Tag is not null && raw.Tag != "!" && !raw.Tag.StartsWith(CoreTagPrefix, StringComparison.Ordinal))
        {
            throw new ConfigException(path, $"unknown tag '{raw.Tag}'; known: !env NAME, !include FILE", location);
        }
    }

    private static string? TagOf(TagName tag) => tag.IsEmpty ? null : tag.Value;

    private static int LineOf(ParsingEvent e) => (int)e.Start.Line;

    private SourceLocation Location(int line) => new(_file, line);
}
