using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Pop3Ingest.Ingestion.Ledger.Postgres;

/// <summary>
/// The shared ledger for several instances: the same rows, states and rules as <see cref="Sqlite.SqliteLedger"/>, on
/// PostgreSQL. Every state change is a conditional update (<c>WHERE state = ...</c>) and every insert is
/// <c>ON CONFLICT DO NOTHING</c>, so two instances that ever touch one account cannot move a row backwards or create
/// it twice. Versioned migration scripts are embedded and tracked in <c>pop3ingest_schema</c>; they are applied
/// under an advisory lock so that instances starting together do not race.
/// </summary>
internal sealed class PostgresLedger : ILedger, IAsyncDisposable, IDisposable
{
    /// <summary>
    /// The advisory lock every instance takes while migrating ("P3IG" in ASCII). Transaction-scoped: a crashed
    /// migration releases it with its connection.
    /// </summary>
    public const long MigrationLockKey = 0x50_33_49_47;

    private const string Terminal = "('Seeded','Oversize','Quarantined')";
    private const string Table = "pop3ingest_messages";
    private readonly NpgsqlDataSource _dataSource;

    public PostgresLedger(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            // Shows in pg_stat_activity, so an operator can tell the ledger's connections from Quartz's.
            builder.ApplicationName = "Pop3Ingest ledger";
        }

        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public static IReadOnlyList<(int Version, string Sql)> Migrations { get; } = LoadMigrations();

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // PostgreSQL's DDL is transactional: the lock, the version check and every script commit or roll back together.
        await connection.ExecuteAsync(
            "SELECT pg_advisory_xact_lock(@key);", new { key = MigrationLockKey, cancellationToken }, transaction).ConfigureAwait(false);
        await LedgerSql.ExecuteAsync(
            connection,
            "CREATE TABLE IF NOT EXISTS pop3ingest_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());",
            transaction,
            cancellationToken).ConfigureAwait(false);
        var current = await LedgerSql.ScalarAsync(connection, "SELECT coalesce(max(version), 0) FROM pop3ingest_schema;", transaction, cancellationToken).ConfigureAwait(false);
        var latest = Migrations[^1].Version;
        if (current > latest)
        {
            throw LedgerSchemaException.Newer(current, latest);
        }

        foreach (var (version, sql) in Migrations.Where(m => m.Version > current))
        {
            await LedgerSql.ExecuteAsync(connection, sql, transaction, cancellationToken).ConfigureAwait(false);
            await connection.ExecuteAsync(
                "INSERT INTO pop3ingest_schema (version) VALUES (@version);", new { version, cancellationToken }, transaction).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await LedgerSql.ScalarAsync(connection, $"SELECT count(*) FROM {Table} WHERE false;", null, cancellationToken).ConfigureAwait(false);
    }

    public async Task ProbeWriteAsync(CancellationToken cancellationToken)
    {
        // A read-only user or a standby answers reads; only a write tells. The probe row is never committed.
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LedgerSql.ExecuteAsync(connection,
            $"INSERT INTO {Table} (account, uidl, blob_name, state, first_seen, updated_at) VALUES ('.write-probe', ''::bytea, '.write-probe', 'Seeded', 0, 0);",
            transaction, cancellationToken).ConfigureAwait(false);
        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<string> CheckAsync(CancellationToken cancellationToken)
    {
        var latest = Migrations[^1].Version;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var database = connection.Database;
        if (await LedgerSql.ScalarAsync(connection, "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'pop3ingest_schema' AND schemaname = current_schema();",
                null, cancellationToken).ConfigureAwait(false) == 0)
        {
            // DDL is transactional here: a table created and rolled back proves the first run may create its own.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await LedgerSql.ExecuteAsync(connection, "CREATE TABLE pop3ingest_create_probe (id integer);", transaction, cancellationToken).ConfigureAwait(false);
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return $"database {database} has no ledger yet; the first run creates its tables (schema version {latest})";
        }

        var current = await LedgerSql.ScalarAsync(connection, "SELECT coalesce(max(version), 0) FROM pop3ingest_schema;", null, cancellationToken).ConfigureAwait(false);
        if (current > latest)
        {
            throw LedgerSchemaException.Newer(current, latest);
        }

        await ProbeWriteAsync(cancellationToken).ConfigureAwait(false);
        return current < latest
            ? $"database {database}, schema version {current}, writable; the first run migrates it to version {latest}"
            : $"database {database}, schema version {current} (current), writable";
    }

    public async Task<IReadOnlyList<LedgerRow>> GetAccountAsync(string account, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var records = await connection.QueryAsync<Record>(
            $"SELECT {Record.Columns} FROM {Table} WHERE account = @account;", new { account, cancellationToken }).ConfigureAwait(false);
        return records.Select(r => r.ToRow()).ToList();
    }

    public async Task InsertAsync(IReadOnlyCollection<LedgerRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // One order for every writer, so that two transactions touching the same keys wait for each other instead of deadlocking.
        await ExecuteEachAsync(
            transaction,
            $"INSERT INTO {Table} ({Record.Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (account, uidl, generation) DO NOTHING;",
            [NpgsqlDbType.Text, NpgsqlDbType.Bytea, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
             NpgsqlDbType.Integer, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint,
             NpgsqlDbType.Integer, NpgsqlDbType.Bigint],
            rows.OrderBy(r => r.Account, StringComparer.Ordinal).ThenBy(r => r.Uidl, StringComparer.Ordinal).ThenBy(r => r.Generation),
            static (row, p) =>
            {
                Set(p[0], row.Account);
                Set(p[1], Encode(row.Uidl));
                Set(p[2], row.BlobName);
                Set(p[3], row.State.ToString());
                Set(p[4], row.FirstSeen.ToUnixTimeMilliseconds());
                Set(p[5], row.Size);
                Set(p[6], row.Sha256);
                Set(p[7], row.Attempts);
                Set(p[8], CleanText(row.LastError));
                Set(p[9], row.StoredAt?.ToUnixTimeMilliseconds());
                Set(p[10], row.NotifiedAt?.ToUnixTimeMilliseconds());
                Set(p[11], row.DeletedAt?.ToUnixTimeMilliseconds());
                Set(p[12], row.UpdatedAt.ToUnixTimeMilliseconds());
                Set(p[13], row.Generation);
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
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteEachAsync(
            transaction,
            $"UPDATE {Table} SET state = 'Stored', size = $4, sha256 = $5, stored_at = $2, updated_at = $2, last_error = NULL " +
            "WHERE account = $1 AND uidl = $3 AND state = 'Pending';",
            [NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bytea, NpgsqlDbType.Bigint, NpgsqlDbType.Text],
            messages.OrderBy(m => m.Uidl, StringComparer.Ordinal),
            (message, p) =>
            {
                Set(p[0], account);
                Set(p[1], now);
                Set(p[2], Encode(message.Uidl));
                Set(p[3], message.Size);
                Set(p[4], message.Sha256);
            },
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task MarkNotifiedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"UPDATE {Table} SET state = 'Notified', notified_at = $2, updated_at = $2 WHERE account = $1 AND uidl = $3 AND state = 'Stored';",
            account, uidls, at, cancellationToken);

    public Task MarkDeletedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"UPDATE {Table} SET state = 'Deleted', deleted_at = $2, updated_at = $2 WHERE account = $1 AND uidl = $3 AND state NOT IN {Terminal} AND state <> 'Deleted';",
            account, uidls, at, cancellationToken);

    public Task ForgetAsync(string account, IReadOnlyCollection<string> uidls, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"DELETE FROM {Table} WHERE account = $1 AND uidl = $3 AND state IN {Terminal};",
            account, uidls, DateTimeOffset.UtcNow, cancellationToken);

    public async Task RecordListSizeAsync(string account, IReadOnlyCollection<ListedSize> sizes, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (sizes.Count == 0)
        {
            return;
        }

        var now = at.ToUnixTimeMilliseconds();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteEachAsync(
            transaction,
            $"UPDATE {Table} SET list_size = $5, updated_at = $2 WHERE account = $1 AND uidl = $3 AND generation = $4;",
            [NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bytea, NpgsqlDbType.Integer, NpgsqlDbType.Bigint],
            sizes.OrderBy(m => m.Uidl, StringComparer.Ordinal),
            (size, p) =>
            {
                Set(p[0], account);
                Set(p[1], now);
                Set(p[2], Encode(size.Uidl));
                Set(p[3], size.Generation);
                Set(p[4], size.ListSize);
            },
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<LedgerState> RecordFailureAsync(string account, string uidl, string error, int maxAttempts, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var state = await connection.QuerySingleOrDefaultAsync<string>(
            $"UPDATE {Table} SET attempts = attempts + 1, last_error = @error, updated_at = @now, " +
            "state = CASE WHEN attempts + 1 >= @maxAttempts THEN 'Quarantined' ELSE state END " +
            "WHERE account = @account AND uidl = @uidl AND state = 'Pending' RETURNING state;",
            new { account, uidl = Encode(uidl), error = CleanText(error), maxAttempts, now = at.ToUnixTimeMilliseconds(), cancellationToken }).ConfigureAwait(false);
        return state is null ? LedgerState.Pending : Enum.Parse<LedgerState>(state);
    }

    public async Task<bool> ReleaseAsync(string account, string uidl, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(
            $"UPDATE {Table} SET state = 'Pending', attempts = 0, updated_at = @now WHERE account = @account AND uidl = @uidl AND state = 'Quarantined';",
            new { account, uidl = Encode(uidl), now = at.ToUnixTimeMilliseconds(), cancellationToken }).ConfigureAwait(false);
        return changed > 0;
    }

    public async Task<int> PruneAsync(DateTimeOffset deletedBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(
            $"DELETE FROM {Table} WHERE state = 'Deleted' AND deleted_at < @cutoff;",
            new { cutoff = deletedBefore.ToUnixTimeMilliseconds(), cancellationToken }).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<LedgerRow> ReadAllAsync(string? account, LedgerState? state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // The casts type the parameters when they are NULL, which PostgreSQL cannot infer from "IS NULL".
        // Read as it streams, by hand (as the SQLite ledger does): an export of a large ledger must not hold it all.
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Record.Columns} FROM {Table} WHERE ($1::text IS NULL OR account = $1::text) AND ($2::text IS NULL OR state = $2::text) ORDER BY account, first_seen, uidl;";
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)account ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)state?.ToString() ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return Record.Read(reader);
        }
    }

    public async Task<IReadOnlyList<LedgerCount>> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await LedgerSql.CountAsync(connection, $"SELECT account, state, count(*) FROM {Table} GROUP BY account, state;", cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public void Dispose() => _dataSource.Dispose();

    /// <summary>A UIDL's bytes: <see cref="LedgerRow.Uidl"/> holds each byte as the Latin-1 code point of the same value.</summary>
    internal static byte[] Encode(string uidl) => Encoding.Latin1.GetBytes(uidl);

    internal static string Decode(byte[] uidl) => Encoding.Latin1.GetString(uidl);

    private async Task UpdateManyAsync(string sql, string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (uidls.Count == 0)
        {
            return;
        }

        var now = at.ToUnixTimeMilliseconds();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteEachAsync(
            transaction,
            sql,
            [NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bytea],
            uidls.Order(StringComparer.Ordinal),
            (uidl, p) =>
            {
                Set(p[0], account);
                Set(p[1], now);
                Set(p[2], Encode(uidl));
            },
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One statement for many rows in a transaction, its positional parameters rebound per row. Not prepared on the
    /// server: a pooler in transaction mode (PgBouncer) may hand the next statement to another server connection,
    /// where a named prepared statement does not exist; Npgsql's own automatic preparation (<c>Max Auto Prepare</c>)
    /// stays the operator's choice in the connection string.
    /// </summary>
    private static async Task ExecuteEachAsync<T>(NpgsqlTransaction transaction, string sql, NpgsqlDbType[] types, IEnumerable<T> items,
        Action<T, NpgsqlParameterCollection> bind, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, transaction.Connection, transaction);
        foreach (var type in types)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = type });
        }

        foreach (var item in items)
        {
            bind(item, command.Parameters);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Set(NpgsqlParameter parameter, object? value) => parameter.Value = value ?? DBNull.Value;

    /// <summary>An error message may quote a server's bytes; PostgreSQL text cannot hold NUL, and 2000 characters are plenty.</summary>
    private static string? CleanText(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var clean = text.Replace('\0', '\uFFFD');
        return clean.Length <= 2000 ? clean : clean[..2000];
    }

    private static List<(int Version, string Sql)> LoadMigrations()
    {
        var assembly = typeof(PostgresLedger).Assembly;
        const string prefix = "Pop3Ingest.Ingestion.Ledger.Postgres.Migrations.";
        var list = new List<(int, string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = name[prefix.Length..];
            var version = int.Parse(file.AsSpan(0, 4), provider: CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            list.Add((version, reader.ReadToEnd()));
        }

        if (list.Count == 0)
        {
            throw new InvalidOperationException("No PostgreSQL ledger migrations are embedded.");
        }

        return list;
    }

    /// <summary>
    /// The row as PostgreSQL holds it (UIDL as bytea, times as Unix milliseconds): Dapper maps an account's rows to
    /// this; the export read builds rows straight from the reader (<see cref="Read"/>).
    /// </summary>
    internal sealed class Record
    {
        public const string Columns = LedgerRecord.Columns;

        public string Account { get; set; } = string.Empty;

        public byte[] Uidl { get; set; } = [];

        public string Blob_Name { get; set; } = string.Empty;

        public string State { get; set; } = string.Empty;

        public long First_Seen { get; set; }

        public long? Size { get; set; }

        public string? Sha256 { get; set; }

        public int Attempts { get; set; }

        public string? Last_Error { get; set; }

        public long? Stored_At { get; set; }

        public long? Notified_At { get; set; }

        public long? Deleted_At { get; set; }

        public long Updated_At { get; set; }

        public int Generation { get; set; }

        public long? List_Size { get; set; }

        public LedgerRow ToRow() => new()
        {
            Account = Account,
            Uidl = Decode(Uidl),
            BlobName = Blob_Name,
            State = Enum.Parse<LedgerState>(State),
            FirstSeen = DateTimeOffset.FromUnixTimeMilliseconds(First_Seen),
            Size = Size,
            Sha256 = Sha256,
            Attempts = Attempts,
            LastError = Last_Error,
            StoredAt = Stored_At is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
            NotifiedAt = Notified_At is { } n ? DateTimeOffset.FromUnixTimeMilliseconds(n) : null,
            DeletedAt = Deleted_At is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null,
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(Updated_At),
            Generation = Generation,
            ListSize = List_Size,
        };

        /// <summary>Reads a row selected with <see cref="Columns"/>, in that order, straight into the domain type.</summary>
        public static LedgerRow Read(NpgsqlDataReader reader) => new()
        {
            Account = reader.GetString(0),
            Uidl = Decode(reader.GetFieldValue<byte[]>(1)),
            BlobName = reader.GetString(2),
            State = Enum.Parse<LedgerState>(reader.GetString(3)),
            FirstSeen = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
            Size = reader.IsDBNull(5) ? null : reader.GetInt64(5),
            Sha256 = reader.IsDBNull(6) ? null : reader.GetString(6),
            Attempts = reader.GetInt32(7),
            LastError = reader.IsDBNull(8) ? null : reader.GetString(8),
            StoredAt = reader.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
            NotifiedAt = reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
            DeletedAt = reader.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)),
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12)),
            Generation = reader.GetInt32(13),
            ListSize = reader.IsDBNull(14) ? null : reader.GetInt64(14),
        };
    }
}
