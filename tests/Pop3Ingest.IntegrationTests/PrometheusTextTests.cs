using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Worker.Diagnostics;

namespace Pop3Ingest.IntegrationTests;

/// <summary>/metrics as the Prometheus text format (0.0.4) requires it, and the runtime's own meter beside ours.</summary>
public sealed class PrometheusTextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("quote\"d", "quote\\\"d")]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData("line\nbreak", "line\\nbreak")]
    [InlineData("\\\"\n", "\\\\\\\"\\n")]
    public void Label_values_are_escaped(string value, string expected) => Assert.Equal(expected, PrometheusText.Escape(value));

    [Fact]
    public void A_label_value_with_a_quote_a_backslash_and_a_line_break_stays_one_well_formed_sample()
    {
        using var metrics = new IngestionMetrics();
        metrics.SetLedger([new LedgerCount("we\"ird\\na\nme", LedgerState.Pending, 3)]);

        var text = metrics.Prometheus([]);

        Assert.Contains("pop3ingest_ledger_messages{account=\"we\\\"ird\\\\na\\nme\",state=\"Pending\"} 3\n", text, StringComparison.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Matches(@"^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\\n]|\\[\\""n])*"",?)*\})? -?[0-9.eE+-]+|NaN)$", line);
        }
    }

    [Fact]
    public void The_runtime_meter_is_exported_beside_the_worker_s_own()
    {
        using var metrics = new IngestionMetrics();
        GC.Collect();

        var text = metrics.Prometheus([]);

        Assert.Contains("# TYPE dotnet_gc_collections_total counter", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections_total{gc_heap_generation=\"gen2\"}", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE dotnet_process_memory_working_set_bytes gauge", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_process_cpu_time_seconds_total", text, StringComparison.Ordinal);
    }
}
