using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Rackspace;

/// <summary>
/// The body of one Cloud Files object, version 1 (docs/operations.md, "Rackspace layout"): the
/// envelope as one line of JSON (UTF-8; JSON escapes every line break inside strings), a LF, then
/// the message bytes untouched. The envelope never changes after it is written (the engine keeps
/// the original recipient list), so only metadata is ever updated.
/// </summary>
internal static class ObjectBody
{
    /// <summary>The layout version this build writes and reads (field <c>v</c>).</summary>
    public const int Version = 1;

    /// <summary>The object bytes for <paramref name="envelope"/>.</summary>
    public static byte[] Encode(Envelope envelope) => EnvelopeLine.Encode(envelope, Version);

    /// <summary>Reads an object back; throws <see cref="InvalidDataException"/> for one this build cannot read.</summary>
    public static Envelope Decode(string id, byte[] body) => EnvelopeLine.Decode(id, body, Version, $"object {id}");
}
