using System.Text.Json.Serialization;

namespace Slimta.Plugins.Aws;

/// <summary>Source-generated JSON for the state and notice documents (the envelope line is Slimta.Abstractions' EnvelopeLine) (no reflection at run time).</summary>
[JsonSerializable(typeof(StateDocument))]
[JsonSerializable(typeof(NoticeDocument))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class AwsJsonContext : JsonSerializerContext;
