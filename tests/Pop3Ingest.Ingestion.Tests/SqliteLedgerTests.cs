using Dapper;
using Microsoft.Data.Sqlite;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// What only the SQLite ledger does: WAL, user_version, its folder, processes creating one file together, the upgrade of
/// a first-schema file. What every ledger promises is in <see cref="Contracts.LedgerContractTests"/> (SqliteLedgerContractTests).
/// </summary>
public sealed class SqliteLedgerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-ledger-").FullName;
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private string Database => Path.Combine(_folder, "sub", "ledger.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private static LedgerRow Row(string uidl, LedgerState state = LedgerState.Pending) => new()
    {
        Account = "a", Uidl = uidl, BlobName = $"a/2026/11/23/{uidl}.eml", State = state, FirstSeen = s_now, UpdatedAt = s_now,
    };

    [Fact]
    public async Task Migrates_once_in_wal_mode_and_creates_its_folder()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        await ledger.MigrateAsync(CancellationToken.None);
        await using var connection = new SqliteConnection($"Data Source={Database}");
        await connection.OpenAsync();
        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode;"));
        Assert.Equal(SqliteLedger.Migrations[^1].Version, await connection.ExecuteScalarAsync<long>("PRAGMA user_version;"));
    }

    [Fact]
    public async Task Processes_creating_a_new_ledger_together_all_succeed()
    {
        // Each ledger its own pool of connections, as separate processes have: the version is read and the schema
        // created inside one write transaction, or the second creator fails on "table messages already exists".
        for (var trial = 0; trial < 5; trial++)
        {
            var path = Path.Combine(_folder, $"race-{trial}.db");
            var ledgers = Enumerable.Range(0, 6).Select(i => new SqliteLedger($"Data Source={path};Default Timeout={30 + i}")).ToList();
            using var start = new Barrier(ledgers.Count);
            var migrations = ledgers.Select(l => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                l.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();
            await Task.WhenAll(migrations);
        }
    }

    [Fact]
    public async Task A_ledger_of_the_first_schema_keeps_every_row_and_gets_generations_and_list_sizes()
    {
        await using (var connection = new SqliteConnection($"Data Source={Database}"))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Database)!);
            await connection.OpenAsync();
            await connection.ExecuteAsync(SqliteLedger.Migrations[0].Sql);
            await connection.ExecuteAsync("PRAGMA user_version = 1;");
            await connection.ExecuteAsync(
                "INSERT INTO messages (account, uidl, blob_name, state, first_seen, size, sha256, attempts, updated_at) VALUES " +
                "('a', 'p', 'a/p.eml', 'Pending', 1, 120, NULL, 1, 2), ('a', 's', 'a/s.eml', 'Stored', 1, 110, 'ab', 0, 2);");
        }

        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);

        var rows = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl);
        Assert.Equal((0, LedgerState.Pending, (long?)120, (long?)120, 1), (rows["p"].Generation, rows["p"].State, rows["p"].Size, rows["p"].ListSize, rows["p"].Attempts));
        Assert.Equal((0, LedgerState.Stored, (long?)110, (long?)null, "ab"), (rows["s"].Generation, rows["s"].State, rows["s"].Size, rows["s"].ListSize, rows["s"].Sha256));

        // The key now holds the generation: a second row for a UIDL is a new generation, not a conflict.
        await ledger.MarkDeletedAsync("a", ["s"], s_now, CancellationToken.None);
        await ledger.InsertAsync([Row("s") with { Generation = 1, BlobName = "a/s1.eml", ListSize = 130 }], CancellationToken.None);
        var generations = (await ledger.GetAccountAsync("a", CancellationToken.None)).Where(r => r.Uidl == "s").OrderBy(r => r.Generation).ToList();
        Assert.Equal([(0, LedgerState.Deleted), (1, LedgerState.Pending)], generations.Select(r => (r.Generation, r.State)));

        // State changes reach the newest generation alone.
        await ledger.MarkStoredAsync("a", [new StoredMessage("s", 99, "cd")], s_now, CancellationToken.None);
        await ledger.RecordListSizeAsync("a", [new ListedSize("s", 1, 140)], s_now, CancellationToken.None);
        generations = (await ledger.GetAccountAsync("a", CancellationToken.None)).Where(r => r.Uidl == "s").OrderBy(r => r.Generation).ToList();
        Assert.Equal([("ab", (long?)null), ("cd", (long?)140)], generations.Select(r => (r.Sha256, r.ListSize)));
    }

    [Fact]
    public async Task Check_creates_no_folder_and_reports_a_first_schema_ledger_as_one_the_first_run_migrates()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        Assert.Contains("does not exist; the first run creates it", await ledger.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(Database)), "check created the ledger's folder");

        await using (var connection = new SqliteConnection($"Data Source={Database}"))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Database)!);
            await connection.OpenAsync();
            await connection.ExecuteAsync(SqliteLedger.Migrations[0].Sql);
            await connection.ExecuteAsync("PRAGMA user_version = 1;");
        }

        Assert.EndsWith($"writable; the first run migrates it to version {SqliteLedger.Migrations[^1].Version}", await ledger.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        await using (var connection = new SqliteConnection($"Data Source={Database}"))
        {
            await connection.OpenAsync();
            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("PRAGMA user_version;"));
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM messages;"));
        }
    }
}
