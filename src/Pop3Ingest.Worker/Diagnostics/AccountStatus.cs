using Pop3Ingest.Ingestion.Pipeline;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>What the status page and the health checks know about one account.</summary>
internal sealed record AccountStatus
{
    public required string Account { get; init; }

    public bool Running { get; init; }

    public RunResult? LastRun { get; init; }

    public DateTimeOffset? LastSuccess { get; init; }

    /// <summary>When the current streak of failed runs began; null while the account is healthy.</summary>
    public DateTimeOffset? FailingSince { get; init; }

    public int ConsecutiveFailures { get; init; }

    /// <summary>Fires before this are skipped (the back-off after failures).</summary>
    public DateTimeOffset? RetryNotBefore { get; init; }

    public DateOnly Day { get; init; }

    public long MessagesToday { get; init; }

    public long BytesToday { get; init; }

    public DateTimeOffset? NextFire { get; init; }
}
