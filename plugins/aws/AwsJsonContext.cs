using System.Text.Json.Serialization;

namespace Slimta.Plugins.Aws;

/// <summary>Source-generated JSON for the envelope, state and notice documents (no reflection at run time).</summary>
[JsonSerializable(typeof(EnvelopeDocument))]
[JsonSerializable(typeof(StateDocument))]
[JsonSerializable(typeof(NoticeDocument))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class AwsJsonContext : JsonSerializerContext;
