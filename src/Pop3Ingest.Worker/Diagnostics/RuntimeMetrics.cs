using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>
/// The runtime's own <c>System.Runtime</c> meter (GC, heap, threads, thread pool, working set, exceptions) in the
/// Prometheus text format for /metrics, named as OpenTelemetry's Prometheus exporter names them (dots to underscores, a
/// unit suffix, <c>_total</c> on counters). OTLP exports the same meter through the OpenTelemetry SDK.
/// </summary>
internal sealed class RuntimeMetrics : IDisposable
{
    public const string MeterName = "System.Runtime";

    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();

    // Observable instruments report their whole value at each collection; the others report increments, kept as sums.
    private readonly Dictionary<(Instrument Instrument, string Labels), double> _observed = [];
    private readonly Dictionary<(Instrument Instrument, string Labels), double> _summed = [];

    public RuntimeMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Collects the observable instruments now and appends every series.</summary>
    public void AppendTo(StringBuilder text)
    {
        lock (_lock)
        {
            _observed.Clear();
        }

        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            foreach (var family in _observed.Concat(_summed).GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
            {
                var instrument = family.Key;
                var counter = instrument is ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> or Counter<long> or Counter<int> or Counter<double>;
                var name = PrometheusText.MetricName(instrument.Name) + UnitSuffix(instrument.Unit) + (counter ? "_total" : string.Empty);
                text.Append("# HELP ").Append(name).Append(' ').Append((instrument.Description ?? instrument.Name).ReplaceLineEndings(" ")).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(counter ? "counter" : "gauge").Append('\n');
                foreach (var ((_, labels), value) in family.OrderBy(s => s.Key.Labels, StringComparer.Ordinal))
                {
                    text.Append(name);
                    if (labels.Length > 0)
                    {
                        text.Append('{').Append(labels).Append('}');
                    }

                    text.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new StringBuilder();
        foreach (var tag in tags)
        {
            if (labels.Length > 0)
            {
                labels.Append(',');
            }

            labels.Append(PrometheusText.MetricName(tag.Key)).Append("=\"")
                .Append(PrometheusText.Escape(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty)).Append('"');
        }

        var key = (instrument, labels.ToString());
        lock (_lock)
        {
            if (instrument.IsObservable)
            {
                _observed[key] = value;
            }
            else
            {
                _summed[key] = _summed.GetValueOrDefault(key) + value;
            }
        }
    }

    private static string UnitSuffix(string? unit) => unit switch
    {
        "By" => "_bytes",
        "s" => "_seconds",
        _ => string.Empty,
    };
}
