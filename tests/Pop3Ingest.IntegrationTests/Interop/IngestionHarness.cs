using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>The product's ingestion pipeline on a SQLite ledger and a folder store in a temporary directory.</summary>
internal sealed class IngestionHarness : IAsyncDisposable
{
    private readonly string _root;
    private readonly IngestionRunner _runner;

    private IngestionHarness(string root, IngestionRunner runner)
    {
        _root = root;
        _runner = runner;
    }

    public string StoreRoot => Path.Combine(_root, "store");

    public static async Task<IngestionHarness> CreateAsync()
    {
        var root = Directory.CreateTempSubdirectory("p3i-interop-").FullName;
        var ledger = new SqliteLedger($"Data Source={Path.Combine(root, "ledger.db")}");
        await ledger.MigrateAsync(CancellationToken.None);
        var store = new FileSystemMessageStore(Path.Combine(root, "store"));
        await store.InitializeAsync(CancellationToken.None);
        var runner = new IngestionRunner(ledger, store, notifier: null, new IngestionOptions(), TimeProvider.System, NullLogger<IngestionRunner>.Instance);
        return new IngestionHarness(root, runner);
    }

    /// <summary>One run: STLS with the pinned certificate when offered, AUTH PLAIN when offered (Auto), else USER/PASS.</summary>
    public Task<RunResult> RunAsync(IPop3TestServer server, DeletePolicy policy, string? password = null, Pop3ClientOptions? client = null) =>
        _runner.RunAsync(new AccountSettings
        {
            Name = server.Name,
            Client = client ?? Pop3Sessions.BestOptions(server),
            Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword(server.User, password ?? server.Password)),
            DeletePolicy = policy,
        }, stopping: CancellationToken.None);

    /// <summary>The stored .eml of a UIDL, wherever its first-seen day put it.</summary>
    public byte[]? ReadStored(string account, string uidl)
    {
        var accountRoot = Path.Combine(StoreRoot, account);
        if (!Directory.Exists(accountRoot))
        {
            return null;
        }

        var path = Directory.EnumerateFiles(accountRoot, BlobNaming.IdOf(uidl) + ".eml", SearchOption.AllDirectories).SingleOrDefault();
        return path is null ? null : File.ReadAllBytes(path);
    }

    /// <summary>Every stored .eml (dot-folders such as .tmp excluded).</summary>
    public IReadOnlyList<string> StoredFiles(string account)
    {
        var accountRoot = Path.Combine(StoreRoot, account);
        return Directory.Exists(accountRoot)
            ? Directory.EnumerateFiles(accountRoot, "*.eml", SearchOption.AllDirectories).ToList()
            : [];
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort.
        }

        return ValueTask.CompletedTask;
    }
}
