using System.Data.Common;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Tests.Contracts;

/// <summary>
/// What <see cref="ILedger"/> promises, whichever database holds it: every ledger gets a subclass that says how to make
/// a database and open the ledger on it, and runs all of these (SQLite in this project, PostgreSQL in the integration
/// tests against a real server). What only one database does (its migrations, its schema table, its locks) stays in
/// that ledger's own test class. This file is compiled into both test projects.
/// </summary>
public abstract class LedgerContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
    private static readonly LedgerState[] s_allStates = Enum.GetValues<LedgerState>();
    private readonly List<ILedger> _opened = [];

    /// <summary>A connection string to a new, empty database: nothing of the ledger's is in it yet.</summary>
    protected abstract Task<string> NewDatabaseAsync();

    /// <summary>The ledger on a database. Several ledgers on one database behave as separate processes would.</summary>
    protected abstract ILedger Open(string connectionString);

    /// <summary>The same database opened so that it answers reads and refuses writes (a read-only mount, role or standby).</summary>
    protected abstract string ReadOnly(string connectionString);

    /// <summary>Marks a migrated database's schema as of the given version, as a newer program would leave it.</summary>
    protected abstract Task SetSchemaVersionAsync(string connectionString, long version);

    /// <summary>Whether a write was refused because the database is read-only, and not for some other reason.</summary>
    protected abstract bool IsReadOnlyRefusal(DbException error);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var ledger in _opened)
        {
            if (ledger is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Migrating_again_keeps_every_row_and_the_ledger_answers()
    {
        var connectionString = await NewDatabaseAsync();
        var ledger = OpenLedger(connectionString);
        await ledger.MigrateAsync(CancellationToken.None);
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);

        await ledger.MigrateAsync(CancellationToken.None);
        await OpenLedger(connectionString).MigrateAsync(CancellationToken.None);

        await ledger.PingAsync(CancellationToken.None);
        Assert.Equal([Row("u1")], await ledger.GetAccountAsync("a", CancellationToken.None));
    }

    [Fact]
    public async Task A_schema_newer_than_the_program_is_refused_by_migration_and_by_check()
    {
        var connectionString = await NewDatabaseAsync();
        var ledger = OpenLedger(connectionString);
        await ledger.MigrateAsync(CancellationToken.None);
        await SetSchemaVersionAsync(connectionString, 999);

        var migrate = await Assert.ThrowsAsync<LedgerSchemaException>(() => ledger.MigrateAsync(CancellationToken.None));
        Assert.Contains("schema version 999, newer than this program knows", migrate.Message, StringComparison.Ordinal);
        var check = await Assert.ThrowsAsync<LedgerSchemaException>(() => ledger.CheckAsync(CancellationToken.None));
        Assert.Equal(migrate.Message, check.Message);
    }

    [Fact]
    public async Task Check_reports_what_the_first_run_creates_without_creating_it_and_then_a_current_writable_ledger()
    {
        var ledger = OpenLedger(await NewDatabaseAsync());
        var before = await ledger.CheckAsync(CancellationToken.None);
        Assert.Contains("the first run creates", before, StringComparison.Ordinal);

        // Had check created the schema, it would now report it.
        Assert.Equal(before, await ledger.CheckAsync(CancellationToken.None));

        await ledger.MigrateAsync(CancellationToken.None);
        Assert.EndsWith("(current), writable", await ledger.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        Assert.Empty(await ledger.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_write_probe_leaves_nothing_behind_and_fails_on_a_ledger_that_answers_reads_but_cannot_be_written()
    {
        var connectionString = await NewDatabaseAsync();
        var ledger = await NewLedgerAsync(connectionString);
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);
        await ledger.ProbeWriteAsync(CancellationToken.None);
        Assert.Equal([new LedgerCount("a", LedgerState.Pending, 1)], await ledger.CountAsync(CancellationToken.None));
        Assert.Equal([Row("u1")], await ReadAllAsync(ledger, null, null));

        var readOnly = OpenLedger(ReadOnly(connectionString));
        await readOnly.PingAsync(CancellationToken.None);
        Assert.Equal([Row("u1")], await readOnly.GetAccountAsync("a", CancellationToken.None));
        var error = await Assert.ThrowsAnyAsync<DbException>(() => readOnly.ProbeWriteAsync(CancellationToken.None));
        Assert.True(IsReadOnlyRefusal(error), error.ToString());
    }

    [Fact]
    public async Task A_row_is_inserted_once_and_a_second_insert_of_its_key_changes_nothing()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([], CancellationToken.None);
        await ledger.InsertAsync([Row("u1"), Row("u2")], CancellationToken.None);

        // Two instances that saw the same new message: the second insert neither fails nor replaces the first.
        await ledger.InsertAsync([Row("u1", LedgerState.Stored) with { BlobName = "other.eml", Size = 5, ListSize = 7 }, Row("u3")], CancellationToken.None);
        await ledger.InsertAsync([Row("u2"), Row("u2")], CancellationToken.None);

        Assert.Equal([Row("u1"), Row("u2"), Row("u3")], await AccountAsync(ledger, "a"));
        Assert.Equal([new LedgerCount("a", LedgerState.Pending, 3)], await ledger.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task States_move_forward_only_and_each_step_records_its_time()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([Row("u1"), Row("u2"), Row("seed", LedgerState.Seeded)], CancellationToken.None);
        await ledger.RecordFailureAsync("a", "u1", "timeout", 5, s_now.AddMinutes(1), CancellationToken.None);

        // Out of order: Notified before Stored does nothing.
        await ledger.MarkNotifiedAsync("a", ["u1"], s_now.AddMinutes(2), CancellationToken.None);
        Assert.Equal(LedgerState.Pending, (await RowAsync(ledger, "u1")).State);

        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 10, "ab")], s_now.AddMinutes(3), CancellationToken.None);
        var stored = await RowAsync(ledger, "u1");
        Assert.Equal(Row("u1") with
        {
            State = LedgerState.Stored, Size = 10, Sha256 = "ab", Attempts = 1, LastError = null, StoredAt = s_now.AddMinutes(3), UpdatedAt = s_now.AddMinutes(3),
        }, stored);

        await ledger.MarkNotifiedAsync("a", ["u1"], s_now.AddMinutes(4), CancellationToken.None);
        Assert.Equal(stored with { State = LedgerState.Notified, NotifiedAt = s_now.AddMinutes(4), UpdatedAt = s_now.AddMinutes(4) }, await RowAsync(ledger, "u1"));

        // Nothing goes back: not to Stored, not to Pending by a failure, not to Pending by a release.
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 99, "zz")], s_now.AddMinutes(5), CancellationToken.None);
        await ledger.RecordFailureAsync("a", "u1", "late", 5, s_now.AddMinutes(5), CancellationToken.None);
        Assert.False(await ledger.ReleaseAsync("a", "u1", s_now.AddMinutes(5), CancellationToken.None));
        Assert.Equal(stored with { State = LedgerState.Notified, NotifiedAt = s_now.AddMinutes(4), UpdatedAt = s_now.AddMinutes(4) }, await RowAsync(ledger, "u1"));

        await ledger.MarkDeletedAsync("a", ["u1", "seed"], s_now.AddMinutes(6), CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 99, "zz")], s_now.AddMinutes(7), CancellationToken.None);
        await ledger.MarkNotifiedAsync("a", ["u1"], s_now.AddMinutes(7), CancellationToken.None);
        Assert.Equal(stored with
        {
            State = LedgerState.Deleted, NotifiedAt = s_now.AddMinutes(4), DeletedAt = s_now.AddMinutes(6), UpdatedAt = s_now.AddMinutes(6),
        }, await RowAsync(ledger, "u1"));
        Assert.Equal(Row("seed", LedgerState.Seeded), await RowAsync(ledger, "seed"));
        Assert.Equal(Row("u2"), await RowAsync(ledger, "u2"));
    }

    [Fact]
    public async Task Repeating_a_state_change_keeps_what_the_first_one_recorded()
    {
        // A run that repeats a step after a crash, or a second instance doing the same step: the first one's values stand.
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 10, "ab")], s_now.AddMinutes(1), CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 11, "cd")], s_now.AddMinutes(2), CancellationToken.None);
        await ledger.MarkNotifiedAsync("a", ["u1"], s_now.AddMinutes(3), CancellationToken.None);
        await ledger.MarkNotifiedAsync("a", ["u1"], s_now.AddMinutes(4), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["u1"], s_now.AddMinutes(5), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["u1"], s_now.AddMinutes(6), CancellationToken.None);

        Assert.Equal(Row("u1") with
        {
            State = LedgerState.Deleted, Size = 10, Sha256 = "ab",
            StoredAt = s_now.AddMinutes(1), NotifiedAt = s_now.AddMinutes(3), DeletedAt = s_now.AddMinutes(5), UpdatedAt = s_now.AddMinutes(5),
        }, await RowAsync(ledger, "u1"));
    }

    [Fact]
    public async Task Deleted_is_reached_from_every_state_but_the_ones_the_worker_never_deletes()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([.. s_allStates.Select(s => Row(s.ToString(), s))], CancellationToken.None);

        await ledger.MarkDeletedAsync("a", [.. s_allStates.Select(s => s.ToString()), "unknown"], s_now.AddMinutes(1), CancellationToken.None);

        var rows = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);
        foreach (var state in new[] { LedgerState.Pending, LedgerState.Stored, LedgerState.Notified })
        {
            Assert.Equal(Row(state.ToString(), LedgerState.Deleted) with { DeletedAt = s_now.AddMinutes(1), UpdatedAt = s_now.AddMinutes(1) }, rows[state.ToString()]);
        }

        foreach (var state in new[] { LedgerState.Quarantined, LedgerState.Seeded, LedgerState.Oversize })
        {
            Assert.Equal(Row(state.ToString(), state), rows[state.ToString()]);
        }

        Assert.Equal(Row(nameof(LedgerState.Deleted), LedgerState.Deleted), rows[nameof(LedgerState.Deleted)]);
        Assert.Equal(s_allStates.Length, rows.Count);
    }

    [Fact]
    public async Task Forget_removes_only_rows_the_worker_never_deletes()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([.. s_allStates.Select(s => Row(s.ToString(), s)), Row("Seeded", LedgerState.Seeded, account: "b")], CancellationToken.None);

        await ledger.ForgetAsync("a", [.. s_allStates.Select(s => s.ToString()), "unknown"], CancellationToken.None);
        await ledger.ForgetAsync("a", [], CancellationToken.None);

        Assert.Equal(
            [nameof(LedgerState.Deleted), nameof(LedgerState.Notified), nameof(LedgerState.Pending), nameof(LedgerState.Stored)],
            (await AccountAsync(ledger, "a")).Select(r => r.Uidl));
        Assert.Equal([Row("Seeded", LedgerState.Seeded, account: "b")], await ledger.GetAccountAsync("b", CancellationToken.None));
    }

    [Fact]
    public async Task Failures_count_up_to_quarantine_and_release_resets_the_count()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([Row("u1"), Row("stored", LedgerState.Stored)], CancellationToken.None);
        for (var i = 1; i < 5; i++)
        {
            Assert.Equal(LedgerState.Pending, await ledger.RecordFailureAsync("a", "u1", $"boom {i}", 5, s_now.AddMinutes(i), CancellationToken.None));
        }

        Assert.Equal(LedgerState.Quarantined, await ledger.RecordFailureAsync("a", "u1", "boom 5", 5, s_now.AddMinutes(5), CancellationToken.None));
        Assert.Equal(Row("u1", LedgerState.Quarantined) with { Attempts = 5, LastError = "boom 5", UpdatedAt = s_now.AddMinutes(5) }, await RowAsync(ledger, "u1"));

        // Quarantined holds: neither stored, deleted nor counted further until released.
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 1, "ab")], s_now.AddMinutes(6), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["u1"], s_now.AddMinutes(6), CancellationToken.None);
        await ledger.RecordFailureAsync("a", "u1", "boom 6", 5, s_now.AddMinutes(6), CancellationToken.None);
        Assert.Equal(Row("u1", LedgerState.Quarantined) with { Attempts = 5, LastError = "boom 5", UpdatedAt = s_now.AddMinutes(5) }, await RowAsync(ledger, "u1"));

        Assert.True(await ledger.ReleaseAsync("a", "u1", s_now.AddMinutes(7), CancellationToken.None));
        Assert.False(await ledger.ReleaseAsync("a", "u1", s_now.AddMinutes(8), CancellationToken.None));
        Assert.False(await ledger.ReleaseAsync("a", "unknown", s_now.AddMinutes(8), CancellationToken.None));
        var released = await RowAsync(ledger, "u1");
        Assert.Equal((LedgerState.Pending, 0, s_now.AddMinutes(7)), (released.State, released.Attempts, released.UpdatedAt));

        // The count starts again; an error of any length is kept to its first 2,000 characters.
        var longError = string.Concat(Enumerable.Repeat("0123456789", 500));
        Assert.Equal(LedgerState.Pending, await ledger.RecordFailureAsync("a", "u1", longError, 5, s_now.AddMinutes(9), CancellationToken.None));
        var counted = await RowAsync(ledger, "u1");
        Assert.Equal((1, longError[..2000]), (counted.Attempts, counted.LastError));

        // A failure is counted on a Pending row only.
        await ledger.RecordFailureAsync("a", "stored", "late", 5, s_now.AddMinutes(9), CancellationToken.None);
        Assert.Equal(Row("stored", LedgerState.Stored), await RowAsync(ledger, "stored"));
    }

    [Fact]
    public async Task A_batch_changes_exactly_its_rows_that_are_in_the_state_it_moves_from()
    {
        var ledger = await NewLedgerAsync();
        var rows = Enumerable.Range(0, 300).Select(i => Row($"u{i:D3}", (i / 100) switch { 0 => LedgerState.Pending, 1 => LedgerState.Stored, _ => LedgerState.Notified })).ToList();
        await ledger.InsertAsync(rows, CancellationToken.None);
        await ledger.InsertAsync([Row("u000", account: "b")], CancellationToken.None);

        // One group commit names every row and some the ledger does not know; only the Pending ones are Stored.
        await ledger.MarkStoredAsync("a", [.. rows.Select((r, i) => new StoredMessage(r.Uidl, 1000 + i, $"h{i}")), new StoredMessage("unknown", 1, "x")],
            s_now.AddMinutes(1), CancellationToken.None);
        await ledger.MarkStoredAsync("a", [], s_now.AddMinutes(1), CancellationToken.None);
        var after = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);
        Assert.Equal(300, after.Count);
        for (var i = 0; i < 300; i++)
        {
            var expected = i < 100
                ? rows[i] with { State = LedgerState.Stored, Size = 1000 + i, Sha256 = $"h{i}", StoredAt = s_now.AddMinutes(1), UpdatedAt = s_now.AddMinutes(1) }
                : rows[i];
            Assert.Equal(expected, after[rows[i].Uidl]);
        }

        await ledger.MarkNotifiedAsync("a", [.. rows.Select(r => r.Uidl)], s_now.AddMinutes(2), CancellationToken.None);
        await ledger.MarkNotifiedAsync("a", [], s_now.AddMinutes(2), CancellationToken.None);
        var counts = await ledger.CountAsync(CancellationToken.None);
        Assert.Equal([new LedgerCount("a", LedgerState.Notified, 300), new LedgerCount("b", LedgerState.Pending, 1)], counts.OrderBy(c => c.Account, StringComparer.Ordinal));
        var notified = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);
        Assert.All(rows.Take(200), r => Assert.Equal(s_now.AddMinutes(2), notified[r.Uidl].NotifiedAt));
        Assert.All(rows.Skip(200), r => Assert.Null(notified[r.Uidl].NotifiedAt));

        await ledger.MarkDeletedAsync("a", [.. rows.Select(r => r.Uidl)], s_now.AddMinutes(3), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", [], s_now.AddMinutes(3), CancellationToken.None);
        Assert.Equal([new LedgerCount("a", LedgerState.Deleted, 300), new LedgerCount("b", LedgerState.Pending, 1)],
            (await ledger.CountAsync(CancellationToken.None)).OrderBy(c => c.Account, StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_list_size_is_recorded_for_the_generation_named_whatever_its_state()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync(
            [Row("u1", LedgerState.Deleted), Row("u1", LedgerState.Stored, generation: 1), Row("u2", LedgerState.Notified), Row("u1", account: "b")],
            CancellationToken.None);

        await ledger.RecordListSizeAsync("a", [new ListedSize("u1", 1, 140), new ListedSize("u2", 0, 150), new ListedSize("u3", 0, 160)], s_now.AddMinutes(1),
            CancellationToken.None);
        await ledger.RecordListSizeAsync("a", [], s_now.AddMinutes(2), CancellationToken.None);

        Assert.Equal(
            [
                Row("u1", LedgerState.Deleted),
                Row("u1", LedgerState.Stored, generation: 1) with { ListSize = 140, UpdatedAt = s_now.AddMinutes(1) },
                Row("u2", LedgerState.Notified) with { ListSize = 150, UpdatedAt = s_now.AddMinutes(1) },
            ],
            await AccountAsync(ledger, "a"));
        Assert.Equal([Row("u1", account: "b")], await ledger.GetAccountAsync("b", CancellationToken.None));
    }

    [Fact]
    public async Task A_new_generation_is_a_row_of_its_own_and_every_change_reaches_it_alone()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([Row("u1")], CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 10, "ab")], s_now.AddMinutes(1), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["u1"], s_now.AddMinutes(2), CancellationToken.None);
        var first = await RowAsync(ledger, "u1");

        // The UIDL listed again with other content: the next generation, with a blob name of its own.
        var second = Row("u1", generation: 1);
        Assert.NotEqual(first.BlobName, second.BlobName);
        await ledger.InsertAsync([second, second with { BlobName = "other.eml" }], CancellationToken.None);
        await ledger.RecordFailureAsync("a", "u1", "boom", 5, s_now.AddMinutes(3), CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 20, "cd")], s_now.AddMinutes(4), CancellationToken.None);
        await ledger.RecordListSizeAsync("a", [new ListedSize("u1", 1, 21)], s_now.AddMinutes(4), CancellationToken.None);
        await ledger.MarkNotifiedAsync("a", ["u1"], s_now.AddMinutes(5), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["u1"], s_now.AddMinutes(6), CancellationToken.None);
        await ledger.InsertAsync([Row("u1", generation: 2)], CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("u1", 30, "ef")], s_now.AddMinutes(7), CancellationToken.None);

        Assert.Equal(
            [
                first,
                second with
                {
                    State = LedgerState.Deleted, Size = 20, Sha256 = "cd", ListSize = 21, Attempts = 1,
                    StoredAt = s_now.AddMinutes(4), NotifiedAt = s_now.AddMinutes(5), DeletedAt = s_now.AddMinutes(6), UpdatedAt = s_now.AddMinutes(6),
                },
                Row("u1", generation: 2) with { State = LedgerState.Stored, Size = 30, Sha256 = "ef", StoredAt = s_now.AddMinutes(7), UpdatedAt = s_now.AddMinutes(7) },
            ],
            await AccountAsync(ledger, "a"));
    }

    [Fact]
    public async Task Pruning_removes_deleted_rows_older_than_the_cutoff_in_every_account_and_nothing_else()
    {
        var ledger = await NewLedgerAsync();
        var cutoff = s_now.AddDays(-30);
        await ledger.InsertAsync(
            [
                Row("old"), Row("edge"), Row("new"), Row("old", account: "b"),
                Row("keep") with { FirstSeen = s_now.AddDays(-400), UpdatedAt = s_now.AddDays(-400) },
                Row("seed", LedgerState.Seeded) with { FirstSeen = s_now.AddDays(-400), UpdatedAt = s_now.AddDays(-400) },
            ],
            CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["old"], s_now.AddDays(-40), CancellationToken.None);
        await ledger.MarkDeletedAsync("b", ["old"], s_now.AddDays(-40), CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["edge"], cutoff, CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["new"], s_now.AddDays(-1), CancellationToken.None);

        Assert.Equal(2, await ledger.PruneAsync(cutoff, CancellationToken.None));
        Assert.Equal(0, await ledger.PruneAsync(cutoff, CancellationToken.None));

        Assert.Equal(["edge", "keep", "new", "seed"], (await AccountAsync(ledger, "a")).Select(r => r.Uidl));
        Assert.Empty(await ledger.GetAccountAsync("b", CancellationToken.None));
        Assert.Equal(
            [new LedgerCount("a", LedgerState.Pending, 1), new LedgerCount("a", LedgerState.Deleted, 2), new LedgerCount("a", LedgerState.Seeded, 1)],
            (await ledger.CountAsync(CancellationToken.None)).OrderBy(c => c.State));
    }

    [Fact]
    public async Task Every_column_of_a_row_in_every_state_comes_back_from_both_reads_and_the_listing_filters()
    {
        var ledger = await NewLedgerAsync();
        var full = Row("full\u0000\u00ff", LedgerState.Deleted, generation: 2) with
        {
            Size = 12345, ListSize = 12000, Sha256 = "ab12", Attempts = 3, LastError = "boom",
            StoredAt = s_now.AddMinutes(1), NotifiedAt = s_now.AddMinutes(2), DeletedAt = s_now.AddMinutes(3), UpdatedAt = s_now.AddMinutes(4),
        };
        var bare = Row("bare", account: "b") with { ListSize = null };
        var eachState = s_allStates.Select(s => Row($"state {s}", s, account: "c") with { Size = 1 + (int)s }).ToList();
        await ledger.InsertAsync([full, bare, .. eachState], CancellationToken.None);

        Assert.Equal([full], await ledger.GetAccountAsync("a", CancellationToken.None));
        Assert.Equal([bare], await ledger.GetAccountAsync("b", CancellationToken.None));
        Assert.Equal(Sorted(eachState), await AccountAsync(ledger, "c"));
        Assert.Empty(await ledger.GetAccountAsync("nobody", CancellationToken.None));

        Assert.Equal(Sorted([full, bare, .. eachState]), Sorted(await ReadAllAsync(ledger, null, null)));
        Assert.Equal(Sorted(eachState), Sorted(await ReadAllAsync(ledger, "c", null)));
        Assert.Equal([full, eachState[(int)LedgerState.Deleted]], Sorted(await ReadAllAsync(ledger, null, LedgerState.Deleted)));
        Assert.Equal([bare], await ReadAllAsync(ledger, "b", LedgerState.Pending));
        Assert.Empty(await ReadAllAsync(ledger, "b", LedgerState.Stored));

        Assert.Equal(
            [new LedgerCount("a", LedgerState.Deleted, 1), new LedgerCount("b", LedgerState.Pending, 1), .. s_allStates.Select(s => new LedgerCount("c", s, 1))],
            (await ledger.CountAsync(CancellationToken.None)).OrderBy(c => c.Account, StringComparer.Ordinal).ThenBy(c => c.State));
    }

    [Fact]
    public async Task Any_byte_survives_in_a_uidl_and_uidls_that_differ_in_case_or_a_space_are_different_messages()
    {
        var ledger = await NewLedgerAsync();
        string[] uidls = ["\u0000\u00ff ../x\u0001", "\u0000", "abc", "ABC", "abc ", "\u00e9", "\u00c9"];
        await ledger.InsertAsync([.. uidls.Select(u => Row(u))], CancellationToken.None);
        await ledger.MarkStoredAsync("a", [new StoredMessage("\u0000\u00ff ../x\u0001", 5, "cd"), new StoredMessage("ABC", 6, "ef")], s_now, CancellationToken.None);
        await ledger.RecordListSizeAsync("a", [new ListedSize("\u0000", 0, 7)], s_now, CancellationToken.None);
        await ledger.MarkDeletedAsync("a", ["abc "], s_now, CancellationToken.None);

        var rows = (await ledger.GetAccountAsync("a", CancellationToken.None)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);
        Assert.Equal(uidls.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((LedgerState.Stored, (long?)5), (rows["\u0000\u00ff ../x\u0001"].State, rows["\u0000\u00ff ../x\u0001"].Size));
        Assert.Equal((LedgerState.Pending, (long?)7), (rows["\u0000"].State, rows["\u0000"].ListSize));
        Assert.Equal((LedgerState.Stored, (long?)6), (rows["ABC"].State, rows["ABC"].Size));
        Assert.Equal(LedgerState.Pending, rows["abc"].State);
        Assert.Equal(LedgerState.Deleted, rows["abc "].State);
        Assert.Equal(Row("\u00e9"), rows["\u00e9"]);
        Assert.Equal(Row("\u00c9"), rows["\u00c9"]);
    }

    [Fact]
    public async Task Accounts_written_at_the_same_time_keep_to_their_own_rows()
    {
        var ledger = await NewLedgerAsync();
        string[] accounts = ["a", "b", "c", "d"];
        var uidls = Enumerable.Range(0, 50).Select(i => $"u{i:D2}").ToList();

        // Every account has the same UIDLs (servers number their messages alike) and runs its steps at once with the others.
        await Task.WhenAll(accounts.Select((account, n) => Task.Run(async () =>
        {
            await ledger.InsertAsync([.. uidls.Select(u => Row(u, account: account))], CancellationToken.None);
            await ledger.MarkStoredAsync(account, [.. uidls.Select(u => new StoredMessage(u, n, account))], s_now.AddMinutes(n), CancellationToken.None);
            await ledger.MarkNotifiedAsync(account, [.. uidls.Take(40)], s_now.AddMinutes(n), CancellationToken.None);
            await ledger.MarkDeletedAsync(account, [.. uidls.Take(30 + n)], s_now.AddMinutes(n), CancellationToken.None);
            await ledger.ForgetAsync(account, [.. uidls], CancellationToken.None);
        })));

        foreach (var (account, n) in accounts.Select((a, n) => (a, n)))
        {
            var rows = await AccountAsync(ledger, account);
            Assert.Equal(uidls, rows.Select(r => r.Uidl));
            Assert.All(rows, r => Assert.Equal((account, (long?)n, account, s_now.AddMinutes(n)), (r.Account, r.Size, r.Sha256, r.StoredAt)));
            Assert.Equal(30 + n, rows.Count(r => r.State == LedgerState.Deleted));
            Assert.Equal(40 - (30 + n), rows.Count(r => r.State == LedgerState.Notified));
        }
    }

    [Fact]
    public async Task Two_writers_racing_on_one_account_store_each_row_once()
    {
        var connectionString = await NewDatabaseAsync();
        var first = await NewLedgerAsync(connectionString);
        var second = OpenLedger(connectionString);
        var rows = Enumerable.Range(0, 200).Select(i => Row($"u{i:D3}")).ToList();

        // Both instances see the same new messages, in opposite orders, and both try every step.
        var reversed = Enumerable.Reverse(rows).ToList();
        await Task.WhenAll(first.InsertAsync(rows, CancellationToken.None), second.InsertAsync(reversed, CancellationToken.None));
        var stored = rows.Select(r => new StoredMessage(r.Uidl, 1, "first")).ToList();
        var storedAgain = Enumerable.Reverse(rows).Select(r => new StoredMessage(r.Uidl, 2, "second")).ToList();
        await Task.WhenAll(
            first.MarkStoredAsync("a", stored, s_now, CancellationToken.None),
            second.MarkStoredAsync("a", storedAgain, s_now, CancellationToken.None));
        await Task.WhenAll(rows.Take(20).Select(r => second.RecordFailureAsync("a", r.Uidl, "late failure", 5, s_now, CancellationToken.None)));
        await Task.WhenAll(
            first.MarkNotifiedAsync("a", [.. rows.Select(r => r.Uidl)], s_now, CancellationToken.None),
            second.MarkDeletedAsync("a", [.. reversed.Select(r => r.Uidl)], s_now, CancellationToken.None));

        var after = await first.GetAccountAsync("a", CancellationToken.None);
        Assert.Equal(200, after.Count);
        Assert.All(after, r => Assert.Equal(0, r.Attempts));

        // Each row took one writer's Stored values, never a mix, and ended Deleted whichever update came first.
        Assert.All(after, r => Assert.True((r.Size, r.Sha256) is (1, "first") or (2, "second"), $"{r.Uidl}: {r.Size} {r.Sha256}"));
        Assert.All(after, r => Assert.Equal(LedgerState.Deleted, r.State));
    }

    [Fact]
    public async Task A_cancelled_token_stops_every_change_before_it_is_made()
    {
        var ledger = await NewLedgerAsync();
        await ledger.InsertAsync([Row("p"), Row("s", LedgerState.Stored), Row("q", LedgerState.Quarantined), Row("d", LedgerState.Deleted)], CancellationToken.None);
        var before = await AccountAsync(ledger, "a");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.InsertAsync([Row("new")], token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.MarkStoredAsync("a", [new StoredMessage("p", 1, "x")], s_now, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.MarkNotifiedAsync("a", ["s"], s_now, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.MarkDeletedAsync("a", ["p"], s_now, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.RecordListSizeAsync("a", [new ListedSize("p", 0, 1)], s_now, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.ForgetAsync("a", ["q"], token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.RecordFailureAsync("a", "p", "x", 1, s_now, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.ReleaseAsync("a", "q", s_now, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ledger.PruneAsync(s_now.AddYears(1), token));

        Assert.Equal(before, await AccountAsync(ledger, "a"));
    }

    /// <summary>A row of account <paramref name="account"/> as the plan writes it: its blob name from <see cref="BlobNaming"/>.</summary>
    private static LedgerRow Row(string uidl, LedgerState state = LedgerState.Pending, string account = "a", int generation = 0) => new()
    {
        Account = account,
        Uidl = uidl,
        Generation = generation,
        BlobName = BlobNaming.BlobNameOf(account, uidl, s_now, generation),
        State = state,
        FirstSeen = s_now,
        UpdatedAt = s_now,
        ListSize = 100,
    };

    /// <summary>The ledger on a new database, migrated.</summary>
    private async Task<ILedger> NewLedgerAsync(string? connectionString = null)
    {
        var ledger = OpenLedger(connectionString ?? await NewDatabaseAsync());
        await ledger.MigrateAsync(CancellationToken.None);
        return ledger;
    }

    /// <summary><see cref="Open"/>, disposed with the test.</summary>
    private ILedger OpenLedger(string connectionString)
    {
        var ledger = Open(connectionString);
        _opened.Add(ledger);
        return ledger;
    }

    private static async Task<LedgerRow> RowAsync(ILedger ledger, string uidl) =>
        Assert.Single(await ledger.GetAccountAsync("a", CancellationToken.None), r => r.Uidl == uidl);

    /// <summary>An account's rows in one order whatever the database's: by UIDL (ordinal), then generation.</summary>
    private static async Task<List<LedgerRow>> AccountAsync(ILedger ledger, string account) =>
        Sorted(await ledger.GetAccountAsync(account, CancellationToken.None));

    private static List<LedgerRow> Sorted(IEnumerable<LedgerRow> rows) =>
        [.. rows.OrderBy(r => r.Account, StringComparer.Ordinal).ThenBy(r => r.Uidl, StringComparer.Ordinal).ThenBy(r => r.Generation)];

    private static async Task<List<LedgerRow>> ReadAllAsync(ILedger ledger, string? account, LedgerState? state)
    {
        var rows = new List<LedgerRow>();
        await foreach (var row in ledger.ReadAllAsync(account, state, CancellationToken.None))
        {
            rows.Add(row);
        }

        return rows;
    }
}
