using System.Text;
using System.Text.RegularExpressions;
using Slimta.Abstractions.Configuration;
using Slimta.Abstractions.Plugins;
using Slimta.Abstractions.Queueing;

namespace Slimta.Plugins.Policies;

/// <summary>
/// Builds <see cref="ForwardPolicy"/> from <c>mapping: {regex: replacement}</c> (required, in
/// written order). Patterns are .NET regular expressions; replacements use .NET syntax
/// (<c>$1</c>, <c>${name}</c>) and, for configs written for python-slimta, Python's <c>\1</c>,
/// <c>\g&lt;1&gt;</c>, <c>\g&lt;name&gt;</c> and <c>\\</c> too.
/// </summary>
internal sealed class ForwardPolicyFactory : IComponentFactory<IQueuePolicy>
{
    private const string MappingKey = "mapping";

    /// <summary>Generous for matching one address, small enough that a runaway pattern cannot hold the edge.</summary>
    internal static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    public void Validate(ComponentOptions options) => Read(options);

    public IQueuePolicy Create(ComponentOptions options, ComponentContext context) => new ForwardPolicy(Read(options));

    private static List<(Regex, string)> Read(ComponentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RequireKnownKeys("type", MappingKey);
        if (!options.Has(MappingKey))
        {
            throw options.Error(null, $"the key '{MappingKey}' is required (a mapping of regular expression to replacement)");
        }
        var entries = options.GetStringMap(MappingKey);
        if (entries.Count == 0)
        {
            throw options.Error(MappingKey, "must hold at least one 'regex: replacement' entry");
        }
        var mapping = new List<(Regex, string)>(entries.Count);
        foreach (var (pattern, replacement) in entries)
        {
            var path = ConfigNode.Combine(options.PathOf(MappingKey), pattern);
            var location = (options.Map[MappingKey] as ConfigMap)?[pattern]?.Location;
            Regex regex;
            try
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
            }
            catch (ArgumentException ex)
            {
                throw new ConfigException(path, $"not a valid regular expression: {ex.Message}", location, ex);
            }
            // .NET treats a reference to a missing group as literal text, so replacements cannot fail here.
            var translated = TranslatePythonReplacement(replacement);
            mapping.Add((regex, translated));
        }
        return mapping;
    }

    /// <summary>Turns Python's <c>\1</c>, <c>\g&lt;x&gt;</c> and <c>\\</c> into .NET's <c>${1}</c>, <c>${x}</c> and <c>\</c>.</summary>
    internal static string TranslatePythonReplacement(string replacement)
    {
        var result = new StringBuilder(replacement.Length);
        for (int i = 0; i < replacement.Length; i++)
        {
            char c = replacement[i];
            if (c != '\\' || i + 1 >= replacement.Length)
            {
                result.Append(c);
                continue;
            }
            char next = replacement[i + 1];
            if (next == '\\')
            {
                result.Append('\\');
                i++;
            }
            else if (char.IsAsciiDigit(next))
            {
                int end = i + 2;
                if (end < replacement.Length && char.IsAsciiDigit(replacement[end]))
                {
                    end++;
                }
                result.Append("${").Append(replacement, i + 1, end - i - 1).Append('}');
                i = end - 1;
            }
            else if (next == 'g' && i + 2 < replacement.Length && replacement[i + 2] == '<')
            {
                int close = replacement.IndexOf('>', i + 3);
                if (close < 0)
                {
                    result.Append(c);
                    continue;
                }
                result.Append("${").Append(replacement, i + 3, close - i - 3).Append('}');
                i = close;
            }
            else
            {
                result.Append(c);
            }
        }
        return result.ToString();
    }
}
