namespace Slimta.Plugins.Rackspace;

/// <summary>One Identity v2.0 token with the endpoints the service catalog gave for the region.</summary>
/// <param name="Token">The token id, sent as X-Auth-Token. Never logged.</param>
/// <param name="Expires">When the token expires (access.token.expires).</param>
/// <param name="RenewAt">When to get a new one, ahead of <paramref name="Expires"/>.</param>
/// <param name="FilesUrl">The Cloud Files (object-store) publicURL.</param>
/// <param name="QueuesUrl">The Cloud Queues (rax:queues) publicURL, or null when not needed.</param>
/// <param name="ProjectId">The tenant id, sent as X-Project-Id to Cloud Queues.</param>
internal sealed record RackspaceAccess(string Token, DateTimeOffset Expires, DateTimeOffset RenewAt, Uri FilesUrl, Uri? QueuesUrl, string? ProjectId);
