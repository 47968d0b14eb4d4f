using Dapper;
using Npgsql;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Postgres;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The PostgreSQL ledger against a real server: the same rules as the SQLite ledger (SqliteLedgerTests), and the
/// ones only a shared ledger needs: instances migrating together, two writers racing on one account.
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
    public async Task Refuses_a_schema_newer_than_the_program()
    {
        var (ledger, connectionString) = await NewLedgerAsync();
        await using (ledger)
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.ExecuteAsync("INSERT INTO pop3ingest_schema (version) VALUES (999);");
            }

            var error = await Assert.ThrowsAsync<LedgerSchemaException>(() => ledger.MigrateAsync(CancellationToken.None));
            Assert.Contains("999", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task States_only_move_forward()
    {
        var (ledger, _) = await NewLedgerAsync();
        await using var _1 = ledger;
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
        Assert.Equal(Row("u1").BlobName, rows["u1"].BlobName);
        Assert.Equal(s_now, rows["u1"].DeletedAt);
        Assert.Equal(LedgerState.Seeded, rows["seed"].State);
        Assert.Equal(LedgerState.Pending, rows["u2"].State);

        await ledger.ForgetAsync("a", ["seed", "u2"], CancellationToken.None);
        Assert.Equal(["u1", "u2"], (await ledger.GetAccountAsync("a", CancellationToken.None)).Select(r => r.Uidl).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Failures_count_up_to_quarantine_and_release_resets()
    {
        var (ledger, _) = await NewLedgerAsync();
        await using var _1 = ledger;
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);
        for (var i = 1; i < 5; i++)
        {
            Assert.Equal(LedgerState.Pending, await ledger.RecordFailureAsync("a", "u1", $"boom {i}", 5, s_now, CancellationToken.None));
        }

        Assert.Equal(LedgerState.Quarantined, await ledger.RecordFailureAsync("a", "u1", "boom 5\u0000 with a NUL", 5, s_now, CancellationToken.None));
        var row = (await ledger.GetAccountAsync("a", CancellationToken.None)).Single();
        Assert.Equal(5, row.Attempts);
        Assert.Equal("boom 5\uFFFD with a NUL", row.LastError);
        Assert.True(await ledger.ReleaseAsync("a", "u1", s_now, CancellationToken.None));
        Assert.False(await ledger.ReleaseAsync("a", "u1", s_now, CancellationToken.None));
        Assert.Equal(0, (await ledger.GetAccountAsync("a", CancellationToken.None)).Single().Attempts);
    }

    [Fact]
    public async Task Prunes_deleted_rows_after_the_cutoff_and_counts_states()
    {
        var (ledger, _) = await NewLedgerAsync();
        await using var _1 = ledger;
        await ledger.InsertAsync([Row("old"), Row("new"), Row("keep")], CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["old"], s_now.AddDays(-40), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["new"], s_now.AddDays(-1), CancellationToken.None);
        Assert.Equal(1, await ledger.PruneAsync(s_now.AddDays(-30), CancellationToken.None));
        var counts = await ledger.CountAsync(CancellationToken.None);
        Assert.Contains(new LedgerCount("a", LedgerState.Deleted, 1), counts);
        Assert.Contains(new LedgerCount("a", LedgerState.Pending, 1), counts);
        var pending = new List<LedgerRow>();
        await foreach (var row in ledger.ReadAllAsync("a", LedgerState.Pending, CancellationToken.None))
        {
            pending.Add(row);
        }

        Assert.Equal(["keep"], pending.Select(r => r.Uidl));
        var all = new List<LedgerRow>();
        await foreach (var row in ledger.ReadAllAsync(null, null, CancellationToken.None))
        {
            all.Add(row);
        }

        Assert.Equal(2, all.Count);
    }

    [Fact]
    public async Task Any_byte_survives_in_a_uidl()
    {
        var (ledger, _) = await NewLedgerAsync();
        await using var _1 = ledger;
        var hostile = "\u0000\u00ff ../x\u0001";
        var alsoHostile = "\u0000";
        await ledger.InsertAsync([Row(hostile), Row(alsoHostile)], CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage(hostile, 5, "cd")], s_now, CancellationToken.None);
        var rows = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);
        Assert.Equal(LedgerState.Stored, rows[hostile].State);
        Assert.Equal(LedgerState.Pending, rows[alsoHostile].State);
    }

    [Fact]
    public async Task Two_writers_racing_on_one_account_store_each_row_once()
    {
        var (first, connectionString) = await NewLedgerAsync();
        await using var _1 = first;
        await using var second = new PostgresLedger(connectionString);
        var rows = Enumerable.Range(0, 200).Select(i => Row($"u{i:D3}")).ToList();

        // Both instances see the same new messages, in opposite orders, and both try every step.
        var reversed = Enumerable.Reverse(rows).ToList();
        await Task.WhenAll(first.InsertAsync(rows, CancellationToken.None), second.InsertAsync(reversed, CancellationToken.None));
        var stored = rows.Select(r => new StoredMessage(r.Uidl, 1, "first")).ToList();
        var storedAgain = Enumerable.Reverse(rows).Select(r => new StoredMessage(r.Uidl, 2, "second")).ToList();
        await Task.WhenAll(
            first.MarkStoredAsync("a", stored, s_now, CancellationToken.None),
            second.MarkStoredAsync("a", storedAgain, s_now, CancellationToken.None));
        var failures = await Task.WhenAll(rows.Take(20).Select(r => second.RecordFailureAsync("a", r.Uidl, "late failure", 5, s_now, CancellationToken.None)));
        await Task.WhenAll(
            first.MarkNotifiedAsync("a", [.. rows.Select(r => r.Uidl)], s_now, CancellationToken.None),
            second.MarkDeletedAsync("a", [.. reversed.Select(r => r.Uidl)], s_now, CancellationToken.None));

        var after = await first.GetAccountAsync("a", CancellationToken.None);
        Assert.Equal(200, after.Count);
        Assert.All(failures, s => Assert.Equal(LedgerState.Pending, s));
        Assert.All(after, r => Assert.Equal(0, r.Attempts));

        // Each row took one writer's Stored values, never a mix, and ended Deleted whichever update came first.
        Assert.All(after, r => Assert.True((r.Size, r.Sha256) is (1, "first") or (2, "second"), $"{r.Uidl}: {r.Size} {r.Sha256}"));
        Assert.All(after, r => Assert.Equal(LedgerState.Deleted, r.State));
    }

    [Fact]
    public async Task Check_reports_what_the_first_run_creates_and_creates_nothing()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync("check");
        await using var ledger = new PostgresLedger(connectionString);
        Assert.Contains("has no ledger yet; the first run creates its tables", await ledger.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema();"));
        }

        await ledger.MigrateAsync(CancellationToken.None);
        Assert.EndsWith("(current), writable", await ledger.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        Assert.Empty(await ledger.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_write_probe_fails_on_a_read_only_connection_and_leaves_nothing_behind()
    {
        var (ledger, connectionString) = await NewLedgerAsync();
        await using var _ = ledger;
        await ledger.ProbeWriteAsync(CancellationToken.None);
        Assert.Empty(await ledger.CountAsync(CancellationToken.None));

        // A read-only role, a hot standby: reads answer, writes do not.
        await using var readOnly = new PostgresLedger(connectionString + ";Options=-c default_transaction_read_only=on");
        await readOnly.PingAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<PostgresException>(() => readOnly.ProbeWriteAsync(CancellationToken.None));
        Assert.Equal("25006", error.SqlState);
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
    public async Task Every_column_of_every_row_comes_back_from_the_export_read()
    {
        var (ledger, _) = await NewLedgerAsync();
        await using var _1 = ledger;
        var full = Row("full\u0000\u00ff", LedgerState.Deleted) with
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
        Assert.Equal([full], await ledger.GetAccountAsync("a", CancellationToken.None));
        var filtered = new List<LedgerRow>();
        await foreach (var row in ledger.ReadAllAsync("b", LedgerState.Pending, CancellationToken.None))
        {
            filtered.Add(row);
        }

        Assert.Equal([bare], filtered);
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
