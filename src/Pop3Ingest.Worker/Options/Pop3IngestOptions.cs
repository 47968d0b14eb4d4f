using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Storage;

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

    /// <summary>Account keys that are the same name in lower case (first kept, second dropped). Not a configuration key.</summary>
    internal List<(string First, string Second)> FoldedAccountKeys { get; } = [];

    /// <summary>Keys set on a POP1 account itself that POP1 cannot honour (account key, setting as written), refused at start.</summary>
    internal List<(string Account, string Setting)> Pop1Conflicts { get; } = [];

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
    // Measured with the benchmark's azurite scenario behind a 20 ms round trip (600 messages, one sitting): 16 uploads
    // in flight kept 0.69x of the rate straight into Azurite, 64 kept 0.80-0.83x (0.90x over 5,000 messages).
    public const int DefaultUploadsInFlight = 64;
    public const int MostUploadsInFlight = 256;
    public const long DefaultUploadBufferBytes = 64L * 1024 * 1024;
    public const long LeastUploadBufferBytes = 1024L * 1024;
    public const long MostUploadBufferBytes = 64L * 1024 * 1024 * 1024;

    /// <summary>FileSystem (the default) or AzureBlob.</summary>
    public string Provider { get; set; } = StorageProviders.FileSystem;

    /// <summary>FileSystem: the folder blobs are written under.</summary>
    public string? Root { get; set; } = "data/mail";

    public bool Sidecar { get; set; } = true;

    /// <summary>AzureBlob: an account key or SAS connection string, or <c>UseDevelopmentStorage=true</c> (Azurite).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>AzureBlob: a file holding the connection string (Docker and Kubernetes secrets).</summary>
    public string? ConnectionStringFile { get; set; }

    /// <summary>AzureBlob: the Blob service URL, with Azure.Identity's DefaultAzureCredential (managed identity).</summary>
    public string? ServiceUri { get; set; }

    /// <summary>AzureBlob: the container (created if missing).</summary>
    public string? Container { get; set; }

    /// <summary>AzureBlob: the Blob service version (<c>yyyy-MM-dd</c>) requests are made with; null: 2025-11-05, which Azure and Azurite 3.35 accept.</summary>
    public string? ServiceVersion { get; set; }

    /// <summary>AzureBlob: uploads in flight per account (overlapped); null: 64; 1: one message after the other.</summary>
    public int? MaxUploadsInFlight { get; set; }

    /// <summary>AzureBlob: the bytes all accounts' upload buffers may hold together; null: 64 MiB.</summary>
    public long? UploadBufferBytes { get; set; }
}

public sealed class NotificationsOptions
{
    public const int DefaultSendsInFlight = 64;
    public const int MostSendsInFlight = 256;

    /// <summary>None (the default) or AzureQueue.</summary>
    public string Provider { get; set; } = NotificationProviders.None;

    /// <summary>AzureQueue: an account key or SAS connection string, or <c>UseDevelopmentStorage=true</c> (Azurite).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>AzureQueue: a file holding the connection string.</summary>
    public string? ConnectionStringFile { get; set; }

    /// <summary>AzureQueue: the Queue service URL, with Azure.Identity's DefaultAzureCredential (managed identity).</summary>
    public string? ServiceUri { get; set; }

    /// <summary>AzureQueue: the queue (created if missing).</summary>
    public string? Queue { get; set; }

    /// <summary>AzureQueue: the Queue service version (<c>yyyy-MM-dd</c>) requests are made with; null: 2025-11-05, which Azure and Azurite 3.35 accept.</summary>
    public string? ServiceVersion { get; set; }

    /// <summary>AzureQueue: Base64 (the default; what Azure Functions reads) or None (XML-escaped JSON).</summary>
    public QueueMessageEncoding MessageEncoding { get; set; } = QueueMessageEncoding.Base64;

    /// <summary>AzureQueue: queue messages of one group commit sent at once; null: 64; 1: one after the other.</summary>
    public int? MaxSendsInFlight { get; set; }
}
