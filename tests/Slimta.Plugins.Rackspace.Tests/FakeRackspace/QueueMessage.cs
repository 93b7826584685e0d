using System.Text.Json.Nodes;

namespace Slimta.Plugins.Rackspace.Tests.FakeRackspace;

/// <summary>A message in the fake Cloud Queues, with its claim (if any) and lifetime.</summary>
public sealed class QueueMessage
{
    public required string Id { get; init; }

    public required JsonNode? Body { get; init; }

    public required DateTimeOffset Created { get; init; }

    public required DateTimeOffset Expires { get; set; }

    public string? ClaimId { get; set; }

    public DateTimeOffset ClaimExpires { get; set; }

    public bool IsClaimed(DateTimeOffset now) => ClaimId is not null && now < ClaimExpires;
}
