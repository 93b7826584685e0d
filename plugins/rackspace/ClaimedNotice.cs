namespace Slimta.Plugins.Rackspace;

/// <summary>A Cloud Queues message taken by a claim of its own (limit=1).</summary>
/// <param name="ClaimHref">The claim (Location of the 201), for PATCH (renew, park) and DELETE (release).</param>
/// <param name="MessageHref">The message href with <c>?claim_id=</c>, for DELETE when the message is done.</param>
/// <param name="StorageId">The object name the notice points at, or null when the body is not a notice.</param>
/// <param name="Timestamp">The next-attempt time the notice was posted with (a hint: the object metadata decides).</param>
/// <param name="Expires">When the notice itself expires (claim time + its <c>ttl</c> − its <c>age</c>), when the service said.</param>
/// <param name="Age">How long ago the notice was posted (its <c>age</c>, by the service's clock), when the service said.</param>
internal sealed record ClaimedNotice(string ClaimHref, string MessageHref, string? StorageId, DateTimeOffset? Timestamp, DateTimeOffset? Expires, TimeSpan? Age = null);
