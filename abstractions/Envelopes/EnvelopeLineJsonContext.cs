using System.Text.Json.Serialization;

namespace Slimta.Abstractions.Envelopes;

/// <summary>Source-generated JSON for <see cref="EnvelopeLineDocument"/> (no reflection at run time); nulls are left out.</summary>
[JsonSerializable(typeof(EnvelopeLineDocument))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class EnvelopeLineJsonContext : JsonSerializerContext;
