using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Diagnostics;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// What a run did, counted as it goes, and its first failure: the only place the run's counters live. The steps count
/// into it; <see cref="Finish"/> turns it into the <see cref="RunResult"/>. Counting is thread-safe: a group commit records
/// and announces its group while the fetch step goes on.
/// </summary>
internal sealed class RunTally(string account)
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Lock _lock = new();

    public DateTimeOffset Started { get; init; }

    public int Listed { get; set; }

    public int Planned { get; set; }

    public int Stored { get; private set; }

    public long Bytes { get; private set; }

    public int AlreadyStored { get; private set; }

    public int Notified { get; private set; }

    public int Deleted { get; private set; }

    public int Waiting { get; private set; }

    public int Failed { get; private set; }

    public int Quarantined { get; private set; }

    public int Oversize { get; private set; }

    public int Duplicates { get; set; }

    public FailureKind Failure { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Messages downloaded so far, stored now or found stored.</summary>
    public int Done => Stored + AlreadyStored;

    public void CountStored(long bytes)
    {
        lock (_lock)
        {
            Stored++;
            Bytes += bytes;
        }
    }

    public void CountAlreadyStored()
    {
        lock (_lock)
        {
            AlreadyStored++;
        }
    }

    public void CountNotified(int count)
    {
        lock (_lock)
        {
            Notified += count;
        }
    }

    public void CountDeleted(int count)
    {
        lock (_lock)
        {
            Deleted += count;
        }
    }

    public void CountWaiting(int count = 1)
    {
        lock (_lock)
        {
            Waiting += count;
        }
    }

    /// <summary>Counts a failed download; returns the count so far (the log line numbers them).</summary>
    public int CountFailed()
    {
        lock (_lock)
        {
            return ++Failed;
        }
    }

    public void CountQuarantined(int count = 1)
    {
        lock (_lock)
        {
            Quarantined += count;
        }
    }

    public void CountOversize(int count = 1)
    {
        lock (_lock)
        {
            Oversize += count;
        }
    }

    /// <summary>Records the run's failure; the first one is the one reported.</summary>
    public void Fail(FailureKind kind, string message)
    {
        lock (_lock)
        {
            if (Failure == FailureKind.None)
            {
                Failure = kind;
                Error = message;
            }
        }
    }

    /// <summary>Adds what the failure means for the run to its message (the first failure stays the one reported).</summary>
    public void Explain(string consequence)
    {
        lock (_lock)
        {
            if (Failure != FailureKind.None)
            {
                Error = $"{Error} {consequence}";
            }
        }
    }

    public RunResult Finish(ILogger logger, RunOutcome? outcome = null)
    {
        var elapsed = _watch.Elapsed;
        var ended = outcome ?? (Failure == FailureKind.None ? RunOutcome.Succeeded : RunOutcome.Failed);
        if (ended == RunOutcome.Failed)
        {
            Log.RunFailed(logger, account, Failure.ToString(), Error ?? "unknown");
        }

        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        Log.RunFinished(logger, account, Done, Bytes, (long)elapsed.TotalMilliseconds, Math.Round(Done / seconds, 1),
            Deleted, Waiting, Failed, Quarantined, Oversize, Duplicates);

        return new RunResult
        {
            Account = account,
            Outcome = ended,
            FailureKind = Failure,
            Error = Error,
            Started = Started,
            Elapsed = elapsed,
            Listed = Listed,
            Stored = Stored,
            StoredBytes = Bytes,
            AlreadyStored = AlreadyStored,
            Notified = Notified,
            Deleted = Deleted,
            Waiting = Waiting,
            Failed = Failed,
            Quarantined = Quarantined,
            Oversize = Oversize,
            Duplicates = Duplicates,
        };
    }
}
