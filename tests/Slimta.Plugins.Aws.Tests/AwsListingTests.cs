using Slimta.Abstractions.Envelopes;

namespace Slimta.Plugins.Aws.Tests;

/// <summary>LoadAll lists the bucket page by page; a message's state object may be on the page after its message object.</summary>
[Collection(AwsCollection.Name)]
public sealed class AwsListingTests(AwsFixture aws)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task LoadAllAsync_SmallPages_EveryMessageOnceWithItsState(int pageSize)
    {
        var prefix = AwsFixture.NewPrefix("page");
        await using var storage = (AwsStorage)aws.Create(TimeProvider.System, prefix, null);
        storage.Store.ListPageSize = pageSize;
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        var expected = new Dictionary<string, DateTimeOffset>();
        for (int i = 0; i < 7; i++)
        {
            var id = Guid.NewGuid().ToString("N");
            expected[id] = start.AddMinutes(i);
            await storage.WriteAsync(id, new Envelope("a@example.org", ["b@example.com"], RawMessage.FromString($"Subject: {i}\r\n\r\n")), expected[id], Ct);
            if (i % 2 == 0)
            {
                // A state object beside the message object: the listing must pair them.
                expected[id] = start.AddHours(i);
                await storage.SetNextAttemptAsync(id, expected[id], Ct);
            }
        }

        var listed = new List<(string Id, DateTimeOffset Next)>();
        await foreach (var m in storage.LoadAllAsync(Ct))
        {
            listed.Add((m.Id, m.NextAttempt));
        }

        Assert.Equal(expected.OrderBy(e => e.Key).Select(e => (e.Key, e.Value)), listed.OrderBy(e => e.Id));
    }
}
