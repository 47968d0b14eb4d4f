using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// <c>ledger export</c> and <c>ledger import</c> move a ledger from SQLite to PostgreSQL and back with every field
/// kept: the worker on the new provider downloads nothing again and names nothing differently.
/// </summary>
[Trait("Category", WorkerProcess.Category)]
public sealed class LedgerProviderMoveTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-move-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_ledger_moves_from_sqlite_to_postgres_and_back_without_downloading_again()
    {
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("move", "pw")] });
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("move");
        for (var i = 1; i <= 8; i++)
        {
            dovecot.Deliver("move", TestMessages.Create(i, 3_000));
        }

        // Kept on the server, so that a worker that forgot what it stored would download everything again.
        WorkerConfig.Write(_folder, dovecot.Port, "move", "pw", account => account["DeletePolicy"] = "Never");
        var (once, onceOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.True(once == 0, onceOutput);
        var storeRoot = Path.Combine(_folder, "data", "mail");
        var stored = StoreInspector.MessageFiles(storeRoot).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(8, stored.Count);

        // A row no text column could hold: a UIDL with a NUL byte, quarantined with its error.
        var sqlite = new SqliteLedger($"Data Source={Path.Combine(_folder, "data", "ledger.db")}");
        var odd = "odd\u0000uidl\u00ff";
        var now = DateTimeOffset.UtcNow;
        await sqlite.InsertAsync([new LedgerRow { Account = "move", Uidl = odd, BlobName = "move/odd.eml", State = LedgerState.Quarantined, FirstSeen = now, UpdatedAt = now, Attempts = 5, LastError = "boom" }], CancellationToken.None);

        var (_, fromSqlite) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "list", "--account", "move", "--format", "json");
        var exported = Path.Combine(_folder, "sqlite.jsonl");
        var (export, exportOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "export", "--file", exported);
        Assert.True(export == 0, exportOutput);

        var onPostgres = new Dictionary<string, string>
        {
            ["Pop3Ingest__Ledger__Provider"] = "Postgres",
            ["Pop3Ingest__Ledger__ConnectionString"] = connectionString,
        };
        var (import, importOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, onPostgres, "ledger", "import", "--file", exported);
        Assert.True(import == 0, importOutput);
        Assert.Contains("9 rows imported", importOutput, StringComparison.Ordinal);
        var (_, fromPostgres) = await WorkerProcess.RunAsync(_folder, s_timeout, onPostgres, "ledger", "list", "--account", "move", "--format", "json");
        Assert.Equal(Lines(fromSqlite), Lines(fromPostgres));

        // And back: PostgreSQL to a fresh SQLite ledger, the same rows.
        var back = Path.Combine(_folder, "postgres.jsonl");
        var (export2, export2Output) = await WorkerProcess.RunAsync(_folder, s_timeout, onPostgres, "ledger", "export", "--file", back);
        Assert.True(export2 == 0, export2Output);
        var onNewSqlite = new Dictionary<string, string> { ["Pop3Ingest__Ledger__ConnectionString"] = "Data Source=data/back.db" };
        var (import2, import2Output) = await WorkerProcess.RunAsync(_folder, s_timeout, onNewSqlite, "ledger", "import", "--file", back);
        Assert.True(import2 == 0, import2Output);
        var (_, fromBack) = await WorkerProcess.RunAsync(_folder, s_timeout, onNewSqlite, "ledger", "list", "--account", "move", "--format", "json");
        Assert.Equal(Lines(fromSqlite), Lines(fromBack));
        Assert.Contains(Lines(fromBack), l => l.Contains("odd\\u0000uidl", StringComparison.Ordinal));

        // On PostgreSQL the worker knows every message: nothing is downloaded or stored again. (The odd row's UIDL
        // is not on the server, so this run forgets it, as it would on SQLite.)
        var (again, againOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, onPostgres, "once");
        Assert.True(again == 0, againOutput);
        Assert.Contains("move: 0 stored", againOutput, StringComparison.Ordinal);
        Assert.Equal(stored, StoreInspector.MessageFiles(storeRoot).Order(StringComparer.Ordinal));
    }

    /// <summary>The JSON rows a listing printed, in a stable order (the log lines around them vary).</summary>
    private static List<string> Lines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith('{')).Order(StringComparer.Ordinal)];
}
