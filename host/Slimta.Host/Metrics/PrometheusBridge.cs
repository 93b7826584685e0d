using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace Slimta.Host.Metrics;

/// <summary>
/// Feeds the instruments of one <see cref="SlimtaMetrics"/> meter into prometheus-net metrics
/// of the proper Prometheus types: counters stay counters (<c>_total</c>), up-down counters and
/// observable gauges become gauges, histograms histograms with <see cref="SlimtaMetrics.DurationBuckets"/>.
/// <para>
/// Why not prometheus-net's own MeterAdapter: it exports every .NET counter as a Prometheus
/// gauge, prefixes every name with the meter's (<c>slimta_slimta_…</c>) and sorts tags with LINQ
/// on every measurement. Here names are fixed (<see cref="SlimtaMetrics.Exports"/>), label
/// children are cached per tag value, and a measurement allocates nothing once its series exists.
/// </para>
/// </summary>
internal sealed class PrometheusBridge : IDisposable
{
    private readonly MeterListener _listener = new();
    private volatile bool _disposed;

    public PrometheusBridge(Meter meter, CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && SlimtaMetrics.Exports.TryGetValue(instrument.Name, out var export))
            {
                listener.EnableMeasurementEvents(instrument, Series.Create(factory, instrument, export));
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Series)state!).Record(value, tags));
        _listener.Start();
        // Observable gauges (queue depth) are read just before each scrape.
        registry.AddBeforeCollectCallback(() =>
        {
            if (!_disposed)
            {
                _listener.RecordObservableInstruments();
            }
        });
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    /// <summary>One exported metric and its label children, keyed by the values of its (at most two) labels.</summary>
    private abstract class Series
    {
        private readonly string[] _labels;

        protected Series(string[] labels) => _labels = labels;

        public static Series Create(MetricFactory factory, Instrument instrument, SlimtaMetrics.Export export)
        {
            var help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
            var labels = export.Labels;
            return instrument switch
            {
                Counter<long> => new CounterSeries(factory.CreateCounter(export.Name, help, labels), labels),
                UpDownCounter<long> => new GaugeSeries(factory.CreateGauge(export.Name, help, labels), labels, increment: true),
                ObservableGauge<int> => new GaugeSeries(factory.CreateGauge(export.Name, help, labels), labels, increment: false),
                Histogram<double> => new HistogramSeries(factory.CreateHistogram(export.Name, help, labels, new HistogramConfiguration { Buckets = SlimtaMetrics.DurationBuckets }), labels),
                _ => throw new InvalidOperationException($"no Prometheus export for {instrument.GetType().Name} {instrument.Name}"),
            };
        }

        public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

        protected (string First, string Second) KeyOf(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            (ValueOf(tags, 0), ValueOf(tags, 1));

        protected string[] Values((string First, string Second) key) =>
            _labels.Length switch
            {
                0 => [],
                1 => [key.First],
                _ => [key.First, key.Second],
            };

        private string ValueOf(ReadOnlySpan<KeyValuePair<string, object?>> tags, int index)
        {
            if (index >= _labels.Length)
            {
                return string.Empty;
            }
            foreach (var tag in tags)
            {
                if (tag.Key == _labels[index])
                {
                    return tag.Value as string ?? tag.Value?.ToString() ?? string.Empty;
                }
            }
            return string.Empty;
        }
    }

    private sealed class CounterSeries(Counter metric, string[] labels) : Series(labels)
    {
        private readonly ConcurrentDictionary<(string, string), Counter.Child> _children = new();

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = KeyOf(tags);
            if (!_children.TryGetValue(key, out var child))
            {
                child = _children.GetOrAdd(key, k => metric.WithLabels(Values(k)));
            }
            child.Inc(value);
        }
    }

    private sealed class GaugeSeries(Gauge metric, string[] labels, bool increment) : Series(labels)
    {
        private readonly ConcurrentDictionary<(string, string), Gauge.Child> _children = new();

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = KeyOf(tags);
            if (!_children.TryGetValue(key, out var child))
            {
                child = _children.GetOrAdd(key, k => metric.WithLabels(Values(k)));
            }
            if (increment)
            {
                child.Inc(value);
            }
            else
            {
                child.Set(value);
            }
        }
    }

    private sealed class HistogramSeries(Histogram metric, string[] labels) : Series(labels)
    {
        private readonly ConcurrentDictionary<(string, string), Histogram.Child> _children = new();

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = KeyOf(tags);
            if (!_children.TryGetValue(key, out var child))
            {
                child = _children.GetOrAdd(key, k => metric.WithLabels(Values(k)));
            }
            child.Observe(value);
        }
    }
}
