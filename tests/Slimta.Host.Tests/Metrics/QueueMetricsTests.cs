using System.Diagnostics.Metrics;
using Slimta.Abstractions.Relaying;
using Slimta.Host.Metrics;

namespace Slimta.Host.Tests.Metrics;

public sealed class QueueMetricsTests
{
    [Theory]
    [InlineData(451, "4.4.1", RelayErrorClass.Connect)]
    [InlineData(451, "4.4.3", RelayErrorClass.Connect)]
    [InlineData(421, null, RelayErrorClass.Transient)]
    [InlineData(451, "4.3.0", RelayErrorClass.Transient)]
    [InlineData(550, "5.1.1", RelayErrorClass.Permanent)]
    [InlineData(554, "5.4.4", RelayErrorClass.Connect)]
    public void Classify_Reply_ClassByEnhancedStatusThenCode(int code, string? status, RelayErrorClass expected) =>
        Assert.Equal(expected, QueueMetrics.Classify(new Reply(code, status, "text")));

    [Fact]
    public void Instruments_TwoServersInOneProcess_EachMeterCountsItsOwn()
    {
        using var a = new SlimtaMetrics();
        using var b = new SlimtaMetrics();
        var totals = new Dictionary<Meter, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Name == "slimta.messages.accepted" && (i.Meter == a.Meter || i.Meter == b.Meter))
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, _, _) =>
        {
            lock (totals)
            {
                totals[i.Meter] = totals.GetValueOrDefault(i.Meter) + v;
            }
        });
        listener.Start();
        a.ForQueue("outbound", () => 0).Accepted(3);
        b.ForQueue("outbound", () => 0).Accepted(2);
        Assert.Equal(3, totals[a.Meter]);
        Assert.Equal(2, totals[b.Meter]);
        Assert.Equal(SlimtaMetrics.MeterName, a.Meter.Name);
    }
}
