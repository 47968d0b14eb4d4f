using Dapper;
using Microsoft.Data.Sqlite;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;

namespace Pop3Ingest.Ingestion.Tests;

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
    public async Task Refuses_a_schema_newer_than_the_program()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        await using (var connection = new SqliteConnection($"Data Source={Database}"))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync("PRAGMA user_version = 999;");
        }

        var error = await Assert.ThrowsAsync<LedgerSchemaException>(() => ledger.MigrateAsync(CancellationToken.None));
        Assert.Contains("999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task States_only_move_forward()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        await ledger.InsertAsync([Row("u1"), Row("u2"), Row("seed", LedgerState.Seeded)], CancellationToken.None);
        await ledger.InsertAsync([Row("u1") with { BlobName = "other" }], CancellationToken.None);

        await ledger.MarkNotifiedAsync("a", ["u1"], s_now, CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 10, "ab")], s_now, CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 99, "zz")], s_now, CancellationToken.None);
        await ledger.MarkNotifiedAsync("a", ["u1"], s_now, CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["u1", "seed"], s_now, CancellationToken.None);

        var rows = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl);
        Assert.Equal(LedgerState.Deleted, rows["u1"].State);
        Assert.Equal(10, rows["u1"].Size);
        Assert.Equal("ab", rows["u1"].Sha256);
        Assert.Equal("a/2026/11/23/u1.eml", rows["u1"].BlobName);
        Assert.Equal(LedgerState.Seeded, rows["seed"].State);
        Assert.Equal(LedgerState.Pending, rows["u2"].State);
    }

    [Fact]
    public async Task Failures_count_up_to_quarantine_and_release_resets()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);
        for (var i = 1; i < 5; i++)
        {
            Assert.Equal(LedgerState.Pending, await ledger.RecordFailureAsync("a", "u1", $"boom {i}", 5, s_now, CancellationToken.None));
        }

        Assert.Equal(LedgerState.Quarantined, await ledger.RecordFailureAsync("a", "u1", "boom 5", 5, s_now, CancellationToken.None));
        var row = (await ledger.GetAccountAsync("a", CancellationToken.None)).Single();
        Assert.Equal(5, row.Attempts);
        Assert.Equal("boom 5", row.LastError);
        Assert.True(await ledger.ReleaseAsync("a", "u1", s_now, CancellationToken.None));
        Assert.False(await ledger.ReleaseAsync("a", "u1", s_now, CancellationToken.None));
        Assert.Equal(0, (await ledger.GetAccountAsync("a", CancellationToken.None)).Single().Attempts);
    }

    [Fact]
    public async Task Prunes_deleted_rows_after_the_cutoff_and_counts_states()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        await ledger.InsertAsync([Row("old"), Row("new"), Row("keep")], CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["old"], s_now.AddDays(-40), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["new"], s_now.AddDays(-1), CancellationToken.None);
        Assert.Equal(1, await ledger.PruneAsync(s_now.AddDays(-30), CancellationToken.None));
        var counts = await ledger.CountAsync(CancellationToken.None);
        Assert.Contains(new LedgerCount("a", LedgerState.Deleted, 1), counts);
        Assert.Contains(new LedgerCount("a", LedgerState.Pending, 1), counts);
        var all = new List<LedgerRow>();
        await foreach (var row in ledger.ReadAllAsync("a", LedgerState.Pending, CancellationToken.None))
        {
            all.Add(row);
        }

        Assert.Equal(["keep"], all.Select(r => r.Uidl));
    }

    [Fact]
    public async Task Any_byte_survives_in_a_uidl()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        var hostile = "\u0000\u00ff ../x\u0001";
        await ledger.InsertAsync([Row(hostile)], CancellationToken.None);
        Assert.Equal(hostile, (await ledger.GetAccountAsync("a", CancellationToken.None)).Single().Uidl);
    }

    [Fact]
    public async Task Every_column_of_every_row_comes_back_from_the_export_read()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        var full = Row("full", LedgerState.Deleted) with
        {
            Size = 12345, ListSize = 12000, Generation = 2, Sha256 = "ab12", Attempts = 3, LastError = "boom",
            StoredAt = s_now.AddMinutes(1), NotifiedAt = s_now.AddMinutes(2), DeletedAt = s_now.AddMinutes(3), UpdatedAt = s_now.AddMinutes(4),
        };
        var bare = Row("bare") with { Account = "b" };
        await ledger.InsertAsync([full, bare], CancellationToken.None);

        var all = new List<LedgerRow>();
        await foreach (var row in ledger.ReadAllAsync(null, null, CancellationToken.None))
        {
            all.Add(row);
        }

        Assert.Equal([full, bare], all);
        Assert.Equal(
            [new LedgerCount("a", LedgerState.Deleted, 1), new LedgerCount("b", LedgerState.Pending, 1)],
            (await ledger.CountAsync(CancellationToken.None)).OrderBy(c => c.Account, StringComparer.Ordinal));
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
    public async Task Check_reports_what_the_first_run_creates_or_migrates_and_changes_nothing()
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

    [Fact]
    public async Task The_write_probe_fails_on_a_ledger_that_answers_reads_but_cannot_be_written_and_leaves_nothing_behind()
    {
        var ledger = new SqliteLedger($"Data Source={Database}");
        await ledger.MigrateAsync(CancellationToken.None);
        await ledger.ProbeWriteAsync(CancellationToken.None);
        Assert.Empty(await ledger.CountAsync(CancellationToken.None));

        // A read-only mount or an immutable file: SQLite opens it read-only, and reads still work.
        var readOnly = new SqliteLedger($"Data Source={Database};Mode=ReadOnly");
        await readOnly.PingAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<SqliteException>(() => readOnly.ProbeWriteAsync(CancellationToken.None));
        Assert.Contains("readonly", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
