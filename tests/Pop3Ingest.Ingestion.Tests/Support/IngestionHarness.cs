using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Tests.Support;

/// <summary>A real SQLite ledger and a real folder store in a temp folder, and a runner over them.</summary>
internal sealed class IngestionHarness : IAsyncDisposable
{
    private IngestionHarness(string root)
    {
        Root = root;
        StoreRoot = Path.Combine(root, "store");
        Ledger = new SqliteLedger($"Data Source={Path.Combine(root, "ledger.db")}");
        FileStore = new FileSystemMessageStore(StoreRoot);
        Store = FileStore;
        RunLedger = Ledger;
    }

    public string Root { get; }

    public string StoreRoot { get; }

    public SqliteLedger Ledger { get; }

    public FileSystemMessageStore FileStore { get; }

    /// <summary>The ledger the runner uses; a test may wrap <see cref="Ledger"/> to slow it down or inject faults.</summary>
    public ILedger RunLedger { get; set; } = null!;

    /// <summary>The store the runner uses; a test may wrap <see cref="FileStore"/> to inject faults.</summary>
    public IMessageStore Store { get; set; }

    public INotifier? Notifier { get; set; }

    public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));

    public IngestionOptions Options { get; set; } = new();

    public CapturingLogger Log { get; } = new();

    public static async Task<IngestionHarness> CreateAsync()
    {
        var root = Directory.CreateTempSubdirectory("p3i-ingest-").FullName;
        var harness = new IngestionHarness(root);
        await harness.Ledger.MigrateAsync(CancellationToken.None);
        await harness.FileStore.InitializeAsync(CancellationToken.None);
        return harness;
    }

    public AccountSettings Account(FakeMailbox mailbox, Func<AccountSettings, AccountSettings>? configure = null)
    {
        var settings = new AccountSettings
        {
            Name = "acct",
            Client = new Pop3ClientOptions
            {
                Host = "127.0.0.1",
                Port = mailbox.Port,
                Security = Pop3Security.None,
                AllowInsecureAuth = true,
                Timeout = TimeSpan.FromSeconds(10),
            },
            Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword("u", "p")),
            Auth = Pop3AuthMethod.UserPass,
        };
        return configure is null ? settings : configure(settings);
    }

    public Task<RunResult> RunAsync(AccountSettings account, CancellationToken stopping = default, Task? ready = null) =>
        new IngestionRunner(RunLedger, Store, Notifier, Options, Time, Log).RunAsync(account, ready: ready, stopping: stopping);

    /// <summary>Every stored message file (not sidecars, not temp files).</summary>
    public IReadOnlyList<string> StoredFiles() =>
        Directory.Exists(StoreRoot)
            ? [.. Directory.EnumerateFiles(StoreRoot, "*.eml", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}.tmp{Path.DirectorySeparatorChar}", StringComparison.Ordinal))]
            : [];

    public async Task<Dictionary<string, LedgerRow>> RowsAsync(string account = "acct") =>
        (await Ledger.GetAccountAsync(account, CancellationToken.None)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);

    public byte[] ReadStored(string uidl, DateTimeOffset? firstSeen = null) =>
        File.ReadAllBytes(FileStore.PathOf(BlobNaming.BlobNameOf("acct", uidl, firstSeen ?? Time.Now)));

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Keeps log lines so that tests can assert what operators would see.</summary>
internal sealed class CapturingLogger : ILogger<IngestionRunner>
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception)));

    public bool Has(int eventId) => Entries.Any(e => e.Id.Id == eventId);
}
