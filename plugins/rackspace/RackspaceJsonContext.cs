using System.Text.Json.Serialization;

namespace Slimta.Plugins.Rackspace;

/// <summary>Source-generated JSON for the envelope line of an object (no reflection at run time).</summary>
[JsonSerializable(typeof(ObjectBody.EnvelopeDocument))]
internal sealed partial class RackspaceJsonContext : JsonSerializerContext;
