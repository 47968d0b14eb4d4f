using Pop3Ingest.Benchmarks.Common;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The benchmark's edits of the results file and of the README's short table (its <c>ResultsMarkdown</c>, linked into
/// this project): a run replaces only what it measured.
/// </summary>
public sealed class BenchmarkResultsTests
{
    private static readonly string[] s_order = ["reader", "drain", "large"];

    [Fact]
    public void A_block_is_replaced_between_its_markers_and_nothing_else_changes()
    {
        var document = "# Title\n\n<!-- bench:drain:begin -->\nold\ntext\n<!-- bench:drain:end -->\n\nafter\n";

        var updated = ResultsMarkdown.ReplaceBlock(document, "drain", "new\n", appendIfMissing: false, out var found);

        Assert.True(found);
        Assert.Equal("# Title\n\n<!-- bench:drain:begin -->\nnew\n<!-- bench:drain:end -->\n\nafter\n", updated);
        Assert.Equal("\nnew\n", ResultsMarkdown.ReadBlock(updated, "drain"));
    }

    [Fact]
    public void A_missing_block_is_appended_only_when_asked()
    {
        var document = "# Results\n";

        var unchanged = ResultsMarkdown.ReplaceBlock(document, "large", "figures", appendIfMissing: false, out var found);
        var appended = ResultsMarkdown.ReplaceBlock(document, "large", "figures", appendIfMissing: true, out _);

        Assert.False(found);
        Assert.Equal(document, unchanged);
        Assert.Equal("# Results\n\n<!-- bench:large:begin -->\nfigures\n<!-- bench:large:end -->\n", appended);
    }

    [Fact]
    public void A_begin_marker_without_its_end_is_an_error()
    {
        Assert.Throws<FormatException>(() => ResultsMarkdown.ReplaceBlock("<!-- bench:drain:begin -->\nx\n", "drain", "y", appendIfMissing: true, out _));
    }

    [Fact]
    public void The_summary_keeps_the_rows_of_scenarios_that_did_not_run_in_scenario_order()
    {
        var existing = """
            | scenario | figure | latest | target |
            |---|---|---|---|
            | `large` | 200 MB message | 0.75 s | met |
            | `drain` | sidecar-off tmpfs | 0.91× | met |
            | `drain` | default disk | 0.55× | met |
            """;

        var merged = ResultsMarkdown.MergeSummary(existing, ["drain"], [["drain", "sidecar-off tmpfs", "0.88× \\| new", "met"]], s_order);

        Assert.Equal(
            """
            | scenario | figure | latest | target |
            |---|---|---|---|
            | `drain` | sidecar-off tmpfs | 0.88× \| new | met |
            | `large` | 200 MB message | 0.75 s | met |
            """.ReplaceLineEndings("\n"),
            merged);
    }

    [Fact]
    public void The_root_readme_holds_the_block_the_benchmark_rewrites()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Pop3Ingest.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("No Pop3Ingest.sln above the test binaries.");
        }

        var table = ResultsMarkdown.ReadBlock(File.ReadAllText(Path.Combine(root, "README.md")), ResultsFiles.SummaryKey);

        Assert.NotNull(table);
        Assert.StartsWith("| " + string.Join(" | ", ResultsMarkdown.SummaryHeader) + " |", table.Trim(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(root, "tests", "Pop3Ingest.Benchmarks", "results.md")));
    }
}
