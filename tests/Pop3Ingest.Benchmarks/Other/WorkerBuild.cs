namespace Pop3Ingest.Benchmarks.Other;

/// <summary>A build of the worker: the one under test, or a baseline named by <c>POP3INGEST_BENCH_BASELINE_WORKER</c>.</summary>
internal sealed record WorkerBuild(string Name, string Program)
{
    public const string Current = "current";

    public bool IsBaseline => Name != Current;

    /// <summary>This build, then the baseline when the environment names one.</summary>
    public static IReadOnlyList<WorkerBuild> All(string program)
    {
        if (Environment.GetEnvironmentVariable("POP3INGEST_BENCH_BASELINE_WORKER") is not { Length: > 0 } baseline)
        {
            return [new WorkerBuild(Current, program)];
        }

        return File.Exists(baseline)
            ? [new WorkerBuild(Current, program), new WorkerBuild("baseline", baseline)]
            : throw new InvalidOperationException($"POP3INGEST_BENCH_BASELINE_WORKER names {baseline}, which does not exist.");
    }
}
