using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Pipeline;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>
/// The Meter named <c>Pop3Ingest</c> (exported with OTLP when configured) and the same figures in the Prometheus
/// text format for /metrics. Counters are kept here so both views agree.
/// </summary>
internal sealed class IngestionMetrics : IDisposable
{
    public const string MeterName = "Pop3Ingest";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _messages;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _deleted;
    private readonly Counter<long> _runs;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _runDuration;
    private readonly ConcurrentDictionary<(string Name, string Labels), double> _values = new();
    private readonly ConcurrentDictionary<string, double> _durationSum = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _durationCount = new(StringComparer.Ordinal);
    private readonly RuntimeMetrics _runtime = new();
    private volatile IReadOnlyList<LedgerCount> _ledger = [];

    public IngestionMetrics()
    {
        _messages = _meter.CreateCounter<long>("pop3ingest.messages.ingested", "{message}", "Messages stored in this process's lifetime");
        _bytes = _meter.CreateCounter<long>("pop3ingest.bytes.ingested", "By", "Bytes stored");
        _deleted = _meter.CreateCounter<long>("pop3ingest.messages.deleted", "{message}", "Deletions committed by the POP3 server");
        _runs = _meter.CreateCounter<long>("pop3ingest.runs", "{run}", "Runs by outcome");
        _failures = _meter.CreateCounter<long>("pop3ingest.run.failures", "{run}", "Failed runs by kind");
        _runDuration = _meter.CreateHistogram<double>("pop3ingest.run.duration", "s", "Run duration");
        _meter.CreateObservableGauge("pop3ingest.ledger.backlog", () => Gauge(LedgerState.Pending, LedgerState.Stored), "{message}", "Messages found but not yet stored or announced");
        _meter.CreateObservableGauge("pop3ingest.messages.quarantined", () => Gauge(LedgerState.Quarantined), "{message}", "Messages quarantined after repeated failures; they stay on the server");
    }

    public void Record(RunResult result)
    {
        var account = new KeyValuePair<string, object?>("account", result.Account);
        _messages.Add(result.Stored, account);
        _bytes.Add(result.StoredBytes, account);
        _deleted.Add(result.Deleted, account);
        _runs.Add(1, account, new("outcome", result.Outcome.ToString()));
        _runDuration.Record(result.Elapsed.TotalSeconds, account);
        var accountLabel = PrometheusText.Labels(("account", result.Account));
        Add("pop3ingest_messages_ingested_total", accountLabel, result.Stored);
        Add("pop3ingest_bytes_ingested_total", accountLabel, result.StoredBytes);
        Add("pop3ingest_messages_deleted_total", accountLabel, result.Deleted);
        Add("pop3ingest_runs_total", PrometheusText.Labels(("account", result.Account), ("outcome", result.Outcome.ToString())), 1);
        if (result.IsFailure)
        {
            _failures.Add(1, account, new("kind", result.FailureKind.ToString()));
            Add("pop3ingest_run_failures_total", PrometheusText.Labels(("account", result.Account), ("kind", result.FailureKind.ToString())), 1);
        }

        _durationSum.AddOrUpdate(result.Account, result.Elapsed.TotalSeconds, (_, v) => v + result.Elapsed.TotalSeconds);
        _durationCount.AddOrUpdate(result.Account, 1, (_, v) => v + 1);
    }

    /// <summary>The latest ledger counts (refreshed by the status collector).</summary>
    public void SetLedger(IReadOnlyList<LedgerCount> counts) => _ledger = counts;

    public string Prometheus(IReadOnlyList<AccountStatus> accounts)
    {
        var text = new StringBuilder();
        void Family(string name, string type, string help)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var ((n, labels), value) in _values.Where(v => v.Key.Name == name).OrderBy(v => v.Key.Labels, StringComparer.Ordinal))
            {
                text.Append(n).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        Family("pop3ingest_messages_ingested_total", "counter", "Messages stored.");
        Family("pop3ingest_bytes_ingested_total", "counter", "Bytes stored.");
        Family("pop3ingest_messages_deleted_total", "counter", "Deletions committed by the POP3 server.");
        Family("pop3ingest_runs_total", "counter", "Runs by outcome.");
        Family("pop3ingest_run_failures_total", "counter", "Failed runs by kind.");
        text.Append("# HELP pop3ingest_run_duration_seconds Run duration.\n# TYPE pop3ingest_run_duration_seconds summary\n");
        foreach (var (account, sum) in _durationSum.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"pop3ingest_run_duration_seconds_sum{{{PrometheusText.Labels(("account", account))}}} {sum}\n");
            text.Append(CultureInfo.InvariantCulture, $"pop3ingest_run_duration_seconds_count{{{PrometheusText.Labels(("account", account))}}} {_durationCount.GetValueOrDefault(account)}\n");
        }

        text.Append("# HELP pop3ingest_ledger_messages Ledger rows by account and state.\n# TYPE pop3ingest_ledger_messages gauge\n");
        foreach (var count in _ledger.OrderBy(c => c.Account, StringComparer.Ordinal).ThenBy(c => c.State))
        {
            text.Append(CultureInfo.InvariantCulture, $"pop3ingest_ledger_messages{{{PrometheusText.Labels(("account", count.Account), ("state", count.State.ToString()))}}} {count.Count}\n");
        }

        text.Append("# HELP pop3ingest_messages_quarantined Quarantined messages (left on the server; alert on this).\n# TYPE pop3ingest_messages_quarantined gauge\n");
        foreach (var account in accounts)
        {
            var quarantined = _ledger.Where(c => c.Account == account.Account && c.State == LedgerState.Quarantined).Sum(c => c.Count);
            text.Append(CultureInfo.InvariantCulture, $"pop3ingest_messages_quarantined{{{PrometheusText.Labels(("account", account.Account))}}} {quarantined}\n");
        }

        text.Append("# HELP pop3ingest_account_consecutive_failures Failed runs in a row.\n# TYPE pop3ingest_account_consecutive_failures gauge\n");
        foreach (var account in accounts)
        {
            text.Append(CultureInfo.InvariantCulture, $"pop3ingest_account_consecutive_failures{{{PrometheusText.Labels(("account", account.Account))}}} {account.ConsecutiveFailures}\n");
        }

        text.Append("# HELP pop3ingest_account_last_success_timestamp_seconds Unix time of the last successful run.\n# TYPE pop3ingest_account_last_success_timestamp_seconds gauge\n");
        foreach (var account in accounts.Where(a => a.LastSuccess is not null))
        {
            text.Append(CultureInfo.InvariantCulture, $"pop3ingest_account_last_success_timestamp_seconds{{{PrometheusText.Labels(("account", account.Account))}}} {account.LastSuccess!.Value.ToUnixTimeSeconds()}\n");
        }

        _runtime.AppendTo(text);
        return text.ToString();
    }

    public void Dispose()
    {
        _runtime.Dispose();
        _meter.Dispose();
    }

    private void Add(string name, string labels, double value) =>
        _values.AddOrUpdate((name, labels), value, (_, v) => v + value);

    private IEnumerable<Measurement<long>> Gauge(params LedgerState[] states) =>
        _ledger.GroupBy(c => c.Account)
            .Select(g => new Measurement<long>(g.Where(c => states.Contains(c.State)).Sum(c => c.Count), new KeyValuePair<string, object?>("account", g.Key)));
}
