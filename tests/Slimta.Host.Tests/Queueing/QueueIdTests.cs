using Slimta.Host.Queueing;

namespace Slimta.Host.Tests.Queueing;

public sealed class QueueIdTests
{
    [Fact]
    public void New_ManyIds_AreDistinct32DigitLowerHex()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 10_000; i++)
        {
            var id = QueueId.New();
            Assert.Matches("^[0-9a-f]{32}$", id);
            Assert.True(seen.Add(id), "duplicate id " + id);
        }
    }
}
