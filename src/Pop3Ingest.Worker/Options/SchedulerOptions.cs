namespace Pop3Ingest.Worker.Options;

/// <summary><c>Pop3Ingest:Scheduler</c>: how runs are spread and bounded.</summary>
public sealed class SchedulerOptions
{
    /// <summary>Random delay added to each account's start, so that many accounts do not fire together. Default: up to 10% of the interval.</summary>
    public TimeSpan? Jitter { get; set; }

    /// <summary>How many accounts may run at the same time.</summary>
    public int MaxConcurrentAccounts { get; set; } = 8;

    /// <summary>How many sessions may be open to one POP3 host at the same time.</summary>
    public int MaxConnectionsPerHost { get; set; } = 4;

    /// <summary>The longest a failing account waits between attempts (its back-off grows up to this).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);
}
