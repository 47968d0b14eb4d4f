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

    /// <summary>
    /// Shares the accounts among several instances through Quartz's clustered ADO.NET job store on PostgreSQL: each
    /// account runs on one instance at a time, and a dead instance's accounts are taken over. Needs the ledger on
    /// PostgreSQL too, and every instance should run the same configuration.
    /// </summary>
    public bool Clustered { get; set; }

    /// <summary>The PostgreSQL database of the clustered job store. Default: the ledger's, when the ledger is on PostgreSQL.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>A file holding <see cref="ConnectionString"/> (a mounted secret).</summary>
    public string? ConnectionStringFile { get; set; }

    /// <summary>How often a clustered instance records that it is alive; another takes its accounts over about this plus <see cref="ClusterCheckinMisfireThreshold"/> after it died.</summary>
    public TimeSpan ClusterCheckinInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long past a missed check-in the others wait before they treat an instance as dead.</summary>
    public TimeSpan ClusterCheckinMisfireThreshold { get; set; } = TimeSpan.FromSeconds(20);
}
