using System.Data;
using System.Reflection;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Pop3Ingest.Ingestion.Ledger.Sqlite;

/// <summary>
/// The embedded ledger: SQLite in WAL mode with synchronous=FULL, so a committed transaction survives a crash
/// of the process and of the machine. Versioned migration scripts are embedded and tracked in user_version.
/// </summary>
internal sealed class SqliteLedger : ILedger
{
    private const string Terminal = "('Seeded','Oversize','Quarantined')";

    /// <summary>The account of the write probe's row: a dot, which no configured account name can hold.</summary>
    private const string ProbeAccount = ".write-probe";

    /// <summary>The write probe's row, in the columns every schema version has.</summary>
    private const string ProbeInsert =
        $"INSERT INTO messages (account, uidl, blob_name, state, first_seen, updated_at) VALUES ('{ProbeAccount}', '', '{ProbeAccount}', 'Seeded', 0, 0);";
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly string? _path;
    private readonly Lock _witnessLock = new();
    private FileStream? _witness;

    public SqliteLedger(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true };
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Default Timeout") && !given.ContainsKey("Command Timeout") && !given.ContainsKey("DefaultTimeout"))
        {
            builder.DefaultTimeout = 30;
        }

        _busyTimeoutMs = builder.DefaultTimeout * 1000;
        if (builder.DataSource is { Length: > 0 } path && !path.Equals(":memory:", StringComparison.Ordinal) && builder.Mode != SqliteOpenMode.Memory)
        {
            _path = Path.GetFullPath(path);
        }

        _connectionString = builder.ToString();
    }

    public static IReadOnlyList<(int Version, string Sql)> Migrations { get; } = LoadMigrations();

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // Made here, not when the ledger is built: check builds it too, and changes nothing.
        if (Path.GetDirectoryName(_path) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await LedgerSql.ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", null, cancellationToken).ConfigureAwait(false);

        // One write transaction, taken before the version is read: two processes creating a new ledger together would
        // otherwise both read version 0 and the second would fail on "table already exists". Microsoft.Data.Sqlite
        // begins a Serializable transaction that is not deferred with BEGIN IMMEDIATE, which takes the write lock now.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
        var current = await LedgerSql.ScalarAsync(connection, "PRAGMA user_version;", transaction, cancellationToken).ConfigureAwait(false);
        var latest = Migrations[^1].Version;
        if (current > latest)
        {
            throw LedgerSchemaException.Newer(current, latest);
        }

        foreach (var (version, sql) in Migrations.Where(m => m.Version > current))
        {
            await LedgerSql.ExecuteAsync(connection, sql, transaction, cancellationToken).ConfigureAwait(false);
            await LedgerSql.ExecuteAsync(connection, $"PRAGMA user_version = {version};", transaction, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        OpenWitness();
    }

    public async Task ProbeWriteAsync(CancellationToken cancellationToken)
    {
        // A read-only mount or an immutable file opens (SQLite falls back to read-only) and answers reads; only a write
        // tells. The probe row is never committed.
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
        await LedgerSql.ExecuteAsync(connection, ProbeInsert, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<string> CheckAsync(CancellationToken cancellationToken)
    {
        var latest = Migrations[^1].Version;
        if (_path is null)
        {
            return "in memory; created by each run";
        }

        if (!File.Exists(_path))
        {
            var existing = Path.GetDirectoryName(_path);
            while (existing is not null && !Directory.Exists(existing))
            {
                existing = Path.GetDirectoryName(existing);
            }

            return $"{_path} does not exist; the first run creates it (schema version {latest}) in {existing ?? "/"}";
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var current = await LedgerSql.ScalarAsync(connection, "PRAGMA user_version;", null, cancellationToken).ConfigureAwait(false);
        if (current > latest)
        {
            throw LedgerSchemaException.Newer(current, latest);
        }

        if (current == 0)
        {
            return $"{_path} holds no ledger yet; the first run creates its schema (version {latest})";
        }

        await ProbeWriteAsync(cancellationToken).ConfigureAwait(false);
        return current < latest
            ? $"{_path}, schema version {current}, writable; the first run migrates it to version {latest}"
            : $"{_path}, schema version {current} (current), writable";
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await LedgerSql.ScalarAsync(connection, "SELECT count(*) FROM messages WHERE 0;", null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<LedgerRow>> GetAccountAsync(string account, CancellationToken cancellationToken)
    {
        // Read by hand, not through Dapper: this is the whole account at every run (100,000 rows for a kept
        // mailbox), and the reconcile budget is half a second including a cold start.
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {LedgerRecord.Columns} FROM messages WHERE account = $account;";
        command.Parameters.AddWithValue("$account", account);
        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false);
        var rows = new List<LedgerRow>();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();

            // account = $account compares bytes, so every row's account is the one asked for.
            rows.Add(LedgerRecord.Read(reader, account));
        }

        return rows;
    }

    public async Task InsertAsync(IReadOnlyCollection<LedgerRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteEachAsync(
            transaction,
            $"INSERT INTO messages ({LedgerRecord.Columns}) VALUES (@account, @uidl, @blob_name, @state, @first_seen, @size, @sha256, @attempts, @last_error, @stored_at, @notified_at, @deleted_at, @updated_at, @generation, @list_size) ON CONFLICT (account, uidl, generation) DO NOTHING;",
            ["@account", "@uidl", "@blob_name", "@state", "@first_seen", "@size", "@sha256", "@attempts", "@last_error", "@stored_at", "@notified_at", "@deleted_at", "@updated_at", "@generation", "@list_size"],
            rows,
            static (row, p) =>
            {
                Set(p[0], row.Account);
                Set(p[1], row.Uidl);
                Set(p[2], row.BlobName);
                Set(p[3], row.State.ToString());
                Set(p[4], row.FirstSeen.ToUnixTimeMilliseconds());
                Set(p[5], row.Size);
                Set(p[6], row.Sha256);
                Set(p[7], (long)row.Attempts);
                Set(p[8], row.LastError);
                Set(p[9], row.StoredAt?.ToUnixTimeMilliseconds());
                Set(p[10], row.NotifiedAt?.ToUnixTimeMilliseconds());
                Set(p[11], row.DeletedAt?.ToUnixTimeMilliseconds());
                Set(p[12], row.UpdatedAt.ToUnixTimeMilliseconds());
                Set(p[13], (long)row.Generation);
                Set(p[14], row.ListSize);
            },
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task MarkStoredAsync(string account, IReadOnlyCollection<StoredMessage> messages, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }

        var now = at.ToUnixTimeMilliseconds();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteEachAsync(
            transaction,
            "UPDATE messages SET state = 'Stored', size = @size, sha256 = @sha256, stored_at = @now, updated_at = @now, last_error = NULL " +
            "WHERE account = @account AND uidl = @uidl AND state = 'Pending';",
            ["@account", "@now", "@uidl", "@size", "@sha256"],
            messages,
            (message, p) =>
            {
                Set(p[0], account);
                Set(p[1], now);
                Set(p[2], message.Uidl);
                Set(p[3], message.Size);
                Set(p[4], message.Sha256);
            },
            cancellationToken).ConfigureAwait(false);
        EnsureFileInPlace();
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task MarkNotifiedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            "UPDATE messages SET state = 'Notified', notified_at = @now, updated_at = @now WHERE account = @account AND uidl = @uidl AND state = 'Stored';",
            account, uidls, at, cancellationToken, allowsDelete: true);

    public Task MarkDeletedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"UPDATE messages SET state = 'Deleted', deleted_at = @now, updated_at = @now WHERE account = @account AND uidl = @uidl AND state NOT IN {Terminal} AND state <> 'Deleted';",
            account, uidls, at, cancellationToken);

    public Task ForgetAsync(string account, IReadOnlyCollection<string> uidls, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"DELETE FROM messages WHERE account = @account AND uidl = @uidl AND state IN {Terminal};",
            account, uidls, DateTimeOffset.UtcNow, cancellationToken);

    public async Task RecordListSizeAsync(string account, IReadOnlyCollection<ListedSize> sizes, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (sizes.Count == 0)
        {
            return;
        }

        var now = at.ToUnixTimeMilliseconds();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteEachAsync(
            transaction,
            "UPDATE messages SET list_size = @list_size, updated_at = @now WHERE account = @account AND uidl = @uidl AND generation = @generation;",
            ["@account", "@now", "@uidl", "@generation", "@list_size"],
            sizes,
            (size, p) =>
            {
                Set(p[0], account);
                Set(p[1], now);
                Set(p[2], size.Uidl);
                Set(p[3], (long)size.Generation);
                Set(p[4], size.ListSize);
            },
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<LedgerState> RecordFailureAsync(string account, string uidl, string error, int maxAttempts, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var state = await connection.QuerySingleOrDefaultAsync<string>(
            "UPDATE messages SET attempts = attempts + 1, last_error = @error, updated_at = @now, " +
            "state = CASE WHEN attempts + 1 >= @maxAttempts THEN 'Quarantined' ELSE state END " +
            "WHERE account = @account AND uidl = @uidl AND state = 'Pending' RETURNING state;",
            new { account, uidl, error = Truncate(error), maxAttempts, now = at.ToUnixTimeMilliseconds(), cancellationToken }).ConfigureAwait(false);
        return state is null ? LedgerState.Pending : Enum.Parse<LedgerState>(state);
    }

    public async Task<bool> ReleaseAsync(string account, string uidl, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(
            "UPDATE messages SET state = 'Pending', attempts = 0, updated_at = @now WHERE account = @account AND uidl = @uidl AND state = 'Quarantined';",
            new { account, uidl, now = at.ToUnixTimeMilliseconds(), cancellationToken }).ConfigureAwait(false);
        return changed > 0;
    }

    public async Task<int> PruneAsync(DateTimeOffset deletedBefore, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(
            "DELETE FROM messages WHERE state = 'Deleted' AND deleted_at < @cutoff;",
            new { cutoff = deletedBefore.ToUnixTimeMilliseconds(), cancellationToken }).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<LedgerRow> ReadAllAsync(string? account, LedgerState? state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Read as it streams, by hand: Dapper's build-time mapping buffers or needs a type per query, and an export
        // of a large ledger must not hold it all.
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {LedgerRecord.Columns} FROM messages WHERE ($account IS NULL OR account = $account) AND ($state IS NULL OR state = $state) ORDER BY account, first_seen, uidl;";
        command.Parameters.AddWithValue("$account", (object?)account ?? DBNull.Value);
        command.Parameters.AddWithValue("$state", (object?)state?.ToString() ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return LedgerRecord.Read(reader, reader.GetString(0));
        }
    }

    public async Task<IReadOnlyList<LedgerCount>> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await LedgerSql.CountAsync(connection, "SELECT account, state, count(*) FROM messages GROUP BY account, state;", cancellationToken).ConfigureAwait(false);
    }

    private async Task UpdateManyAsync(string sql, string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken,
        bool allowsDelete = false)
    {
        if (uidls.Count == 0)
        {
            return;
        }

        var now = at.ToUnixTimeMilliseconds();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteEachAsync(
            transaction,
            sql,
            ["@account", "@now", "@uidl"],
            uidls,
            (uidl, p) =>
            {
                Set(p[0], account);
                Set(p[1], now);
                Set(p[2], uidl);
            },
            cancellationToken).ConfigureAwait(false);
        if (allowsDelete)
        {
            EnsureFileInPlace();
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Keeps a handle on the ledger file the connections write to, to tell later whether it is still the file at the
    /// path. Never closed while the process lives: closing any descriptor of the file would drop SQLite's POSIX locks.
    /// </summary>
    private void OpenWitness()
    {
        if (_path is null || !OperatingSystem.IsLinux())
        {
            return;
        }

        lock (_witnessLock)
        {
            _witness ??= new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        }
    }

    /// <summary>
    /// Before a commit that lets the run send DELE: the ledger file deleted or replaced while in use would take the
    /// commit with it (the connections go on writing to the unlinked file, and the next start begins with an empty
    /// ledger), so the message would be deleted on the server with no record of where it was stored. Linux shows an
    /// unlinked file's descriptor as "(deleted)" under /proc/self/fd.
    /// </summary>
    private void EnsureFileInPlace()
    {
        FileStream? witness;
        lock (_witnessLock)
        {
            witness = _witness;
        }

        if (witness is null)
        {
            return;
        }

        var target = new FileInfo($"/proc/self/fd/{witness.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
        if (target is null || target.EndsWith(" (deleted)", StringComparison.Ordinal) || !File.Exists(_path))
        {
            throw new LedgerFileReplacedException(
                $"The ledger file {_path} was deleted or replaced while the worker used it, so nothing more is recorded and nothing is deleted " +
                "on the server. Stop the worker, put the ledger back (or run 'ledger rebuild' for each account), then start it again.");
        }
    }

    /// <summary>
    /// One statement for many rows in a transaction: compiled once, its parameters rebound per row (Dapper would
    /// compile the SQL again for every row, which cost 30 µs a row, 0.15 s for a plan of 5,000 new messages).
    /// </summary>
    private static async Task ExecuteEachAsync<T>(SqliteTransaction transaction, string sql, string[] parameters, IEnumerable<T> items,
        Action<T, SqliteParameterCollection> bind, CancellationToken cancellationToken)
    {
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        foreach (var item in items)
        {
            bind(item, command.Parameters);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Set(SqliteParameter parameter, object? value) => parameter.Value = value ?? DBNull.Value;

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // Per connection: FULL makes each commit durable in WAL mode; the busy timeout lets a second process wait.
            await LedgerSql.ExecuteAsync(connection, $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={_busyTimeoutMs};", null, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string Truncate(string error) => error.Length <= 2000 ? error : error[..2000];

    private static List<(int Version, string Sql)> LoadMigrations()
    {
        var assembly = typeof(SqliteLedger).Assembly;
        const string prefix = "Pop3Ingest.Ingestion.Ledger.Sqlite.Migrations.";
        var list = new List<(int, string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = name[prefix.Length..];
            var version = int.Parse(file.AsSpan(0, 4), provider: System.Globalization.CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            list.Add((version, reader.ReadToEnd()));
        }

        if (list.Count == 0)
        {
            throw new InvalidOperationException("No ledger migrations are embedded.");
        }

        return list;
    }
}
