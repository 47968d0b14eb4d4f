namespace Pop3Ingest.Benchmarks.Common;

/// <summary>
/// Where a run's results land in the repository, so that new figures are a run of the benchmark rather than edits by
/// hand: each scenario's section of <c>tests/Pop3Ingest.Benchmarks/results.md</c> is replaced by its latest run, and
/// its rows of the short table in the root README (between <c>bench:summary</c> markers) with it.
/// </summary>
internal sealed class ResultsFiles(string repositoryRoot, IReadOnlyList<string> scenarioOrder)
{
    public const string SummaryKey = "summary";

    private const string Preamble =
        "# Benchmark results\n\n" +
        "Written by the benchmark program (`bash deploy/local/bench.sh`): every run replaces the sections of the scenarios it ran, " +
        "each with the date, machine, commit and command line it came from. Method and scenarios: [README.md](README.md).\n";

    public string ResultsPath { get; } = Path.Combine(repositoryRoot, "tests", "Pop3Ingest.Benchmarks", "results.md");

    public string ReadmePath { get; } = Path.Combine(repositoryRoot, "README.md");

    /// <summary>Replaces the scenario's section of the results file and its rows of the README's short table.</summary>
    public void Save(string scenario, IReadOnlyList<string> lines, IReadOnlyList<IReadOnlyList<string>> summary)
    {
        var results = File.Exists(ResultsPath) ? File.ReadAllText(ResultsPath) : Preamble;
        results = ResultsMarkdown.ReplaceBlock(results, scenario, string.Join("\n", lines), appendIfMissing: true, out _);
        File.WriteAllText(ResultsPath, results);

        if (summary.Count == 0)
        {
            return;
        }

        var readme = File.ReadAllText(ReadmePath);
        var table = ResultsMarkdown.MergeSummary(ResultsMarkdown.ReadBlock(readme, SummaryKey), [scenario], summary, scenarioOrder);
        var updated = ResultsMarkdown.ReplaceBlock(readme, SummaryKey, table, appendIfMissing: false, out var found);
        if (!found)
        {
            Console.Error.WriteLine($"{ReadmePath} has no {ResultsMarkdown.Begin(SummaryKey)} ... {ResultsMarkdown.End(SummaryKey)}; its table was not updated.");
            return;
        }

        File.WriteAllText(ReadmePath, updated);
    }
}
