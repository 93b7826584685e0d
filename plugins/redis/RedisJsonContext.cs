using System.Text.Json.Serialization;

namespace Slimta.Plugins.Redis;

/// <summary>Source-generated JSON for the <c>envelope</c> field (no reflection at run time).</summary>
[JsonSerializable(typeof(RedisEnvelopeFields.EnvelopeDocument))]
internal sealed partial class RedisJsonContext : JsonSerializerContext;
