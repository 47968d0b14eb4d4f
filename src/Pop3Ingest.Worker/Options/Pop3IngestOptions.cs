namespace Pop3Ingest.Worker.Options;

/// <summary>The <c>Pop3Ingest</c> configuration section.</summary>
public sealed class Pop3IngestOptions
{
    public const string Section = "Pop3Ingest";

    public LedgerOptions Ledger { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public NotificationsOptions Notifications { get; set; } = new();

    /// <summary>Keys every account inherits unless it sets them itself.</summary>
    public AccountOptions? Defaults { get; set; }

    /// <summary>Accounts by name, each merged over <see cref="Defaults"/> by <see cref="OptionsSetup"/>.</summary>
    public Dictionary<string, AccountOptions> Accounts { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public SchedulerOptions Scheduler { get; set; } = new();

    public HttpOptions Http { get; set; } = new();

    /// <summary>How long a stopping run may take to finish its message and QUIT before its I/O is cut.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The folder relative paths resolve against (the configuration file's folder). Not a configuration key.</summary>
    internal string BaseDirectory { get; set; } = Directory.GetCurrentDirectory();
}

public sealed class LedgerOptions
{
    /// <summary><c>Sqlite</c> (one instance) or <c>Postgres</c> (shared by several instances).</summary>
    public string Provider { get; set; } = "Sqlite";

    public string? ConnectionString { get; set; } = "Data Source=data/ledger.db";

    public string? ConnectionStringFile { get; set; }

    public int PruneAfterDays { get; set; } = 30;
}

public sealed class StorageOptions
{
    public string Provider { get; set; } = "FileSystem";

    public string? Root { get; set; } = "data/mail";

    public bool Sidecar { get; set; } = true;
}

public sealed class NotificationsOptions
{
    public string Provider { get; set; } = "None";
}
