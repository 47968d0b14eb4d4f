using Dapper;
using Npgsql;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Postgres;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// What only the PostgreSQL ledger does, against a real server: instances migrating together under the advisory lock,
/// the schema table, the upgrade of a first-schema database, text without NUL, a statement cancelled while it waits on
/// a row lock. What every ledger promises is in LedgerContractTests (PostgresLedgerContractTests).
/// </summary>
public sealed class PostgresLedgerTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private static LedgerRow Row(string uidl, LedgerState state = LedgerState.Pending) => new()
    {
        Account = "a", Uidl = uidl, BlobName = $"a/2026/11/23/{Convert.ToHexString(System.Text.Encoding.Latin1.GetBytes(uidl))}.eml", State = state, FirstSeen = s_now, UpdatedAt = s_now,
    };

    private async Task<(PostgresLedger Ledger, string ConnectionString)> NewLedgerAsync()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync("ledger");
        var ledger = new PostgresLedger(connectionString);
        await ledger.MigrateAsync(CancellationToken.None);
        return (ledger, connectionString);
    }

    [Fact]
    public async Task Instances_migrating_together_apply_each_version_once()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync("migrate");
        var ledgers = Enumerable.Range(0, 6).Select(_ => new PostgresLedger(connectionString)).ToList();
        await Task.WhenAll(ledgers.Select(l => l.MigrateAsync(CancellationToken.None)));
        await ledgers[0].MigrateAsync(CancellationToken.None);
        await using var connection = new NpgsqlConnection(connectionString);
        var versions = (await connection.QueryAsync<int>("SELECT version FROM pop3ingest_schema ORDER BY version;")).ToList();
        Assert.Equal(PostgresLedger.Migrations.Select(m => m.Version), versions);
        foreach (var ledger in ledgers)
        {
            await ledger.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_error_quoting_a_nul_is_recorded_with_a_replacement_character()
    {
        // PostgreSQL text cannot hold NUL; a server's bytes quoted in an error must not fail the failure's own record.
        var (ledger, _) = await NewLedgerAsync();
        await using var _1 = ledger;
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);
        Assert.Equal(LedgerState.Quarantined, await ledger.RecordFailureAsync("a", "u1", "boom\u0000 with a NUL", 1, s_now, CancellationToken.None));
        Assert.Equal("boom\uFFFD with a NUL", (await ledger.GetAccountAsync("a", CancellationToken.None)).Single().LastError);
    }

    [Fact]
    public async Task Check_creates_no_table_in_a_database_without_a_ledger()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync("check");
        await using var ledger = new PostgresLedger(connectionString);
        Assert.Contains("has no ledger yet; the first run creates its tables", await ledger.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema();"));
    }

    [Fact]
    public async Task A_ledger_of_the_first_schema_keeps_every_row_and_gets_generations_and_list_sizes()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync("upgrade");
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync("CREATE TABLE pop3ingest_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());");
            await connection.ExecuteAsync(PostgresLedger.Migrations[0].Sql);
            await connection.ExecuteAsync("INSERT INTO pop3ingest_schema (version) VALUES (1);");
            await connection.ExecuteAsync(
                "INSERT INTO pop3ingest_messages (account, uidl, blob_name, state, first_seen, size, sha256, attempts, updated_at) VALUES " +
                "('a', 'p'::bytea, 'a/p.eml', 'Pending', 1, 120, NULL, 1, 2), ('a', 's'::bytea, 'a/s.eml', 'Stored', 1, 110, 'ab', 0, 2);");
        }

        await using var ledger = new PostgresLedger(connectionString);
        await ledger.MigrateAsync(CancellationToken.None);
        var rows = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl);
        Assert.Equal((0, LedgerState.Pending, (long?)120, (long?)120), (rows["p"].Generation, rows["p"].State, rows["p"].Size, rows["p"].ListSize));
        Assert.Equal((0, LedgerState.Stored, (long?)110, (long?)null), (rows["s"].Generation, rows["s"].State, rows["s"].Size, rows["s"].ListSize));

        // A second row for a UIDL is a new generation, not a conflict; state changes reach the newest generation alone.
        await ledger.MarkDeletedAsync("a", ["s"], s_now, CancellationToken.None);
        await ledger.InsertAsync([Row("s") with { Generation = 1, BlobName = "a/s1.eml", ListSize = 130 }], CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("s", 99, "cd")], s_now, CancellationToken.None);
        await ledger.RecordListSizeAsync("a", [new ListedSize("s", 1, 140)], s_now, CancellationToken.None);
        var generations = (await ledger.GetAccountAsync("a", CancellationToken.None)).Where(r => r.Uidl == "s").OrderBy(r => r.Generation).ToList();
        Assert.Equal([(0, LedgerState.Deleted, "ab", (long?)null), (1, LedgerState.Stored, "cd", (long?)140)],
            generations.Select(r => (r.Generation, r.State, r.Sha256, r.ListSize)));
    }

    [Fact]
    public async Task A_statement_waiting_on_a_row_lock_stops_when_cancelled()
    {
        var (ledger, connectionString) = await NewLedgerAsync();
        await using var _1 = ledger;
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);

        // Another session holds the row, so the ledger's UPDATE waits until its token is cancelled.
        await using var holder = new NpgsqlConnection(connectionString);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM pop3ingest_messages WHERE account = 'a' FOR UPDATE;", holder, transaction))
        {
            await lockRow.ExecuteScalarAsync();
        }

        // Should the token not reach the statement, the lock goes after 10 s and the update succeeds: the test fails, it does not hang.
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var release = Task.Delay(Timeout.Infinite, giveUp.Token).ContinueWith(_ => transaction.RollbackAsync(), TaskScheduler.Default).Unwrap();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.RecordFailureAsync("a", "u1", "boom", 5, s_now, cancel.Token));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(8), $"cancellation took {started.Elapsed}");
        await giveUp.CancelAsync();
        await release;
        Assert.Equal(0, (await ledger.GetAccountAsync("a", CancellationToken.None)).Single().Attempts);
    }
}
