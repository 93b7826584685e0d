namespace Slimta.Plugins.Redis;

/// <summary>The resolved keys of one redis queue.</summary>
/// <param name="Name">The queue's key path (<c>queue.inbound</c>) for logs.</param>
/// <param name="Host">Redis host name or address.</param>
/// <param name="Port">Redis TCP port.</param>
/// <param name="Database">Redis database number.</param>
/// <param name="Password">Redis password (AUTH), or null. Never logged.</param>
/// <param name="Prefix">Prepended to every key this queue uses.</param>
/// <param name="Lease">How long a worker's claim lasts unless renewed.</param>
internal sealed record RedisStorageSettings(string Name, string Host, int Port, int Database, string? Password, string Prefix, TimeSpan Lease);
